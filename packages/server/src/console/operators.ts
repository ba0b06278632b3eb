/** Operator administration shared by the CLI (`solvebox operators`) and the first start of `npm start`. */
import type { ConsoleStore, Operator, OperatorRole } from '../storage/types.js';
import { hashPassword, newPassword } from './passwords.js';

/** Letters, digits, `.`, `_` and `-`: names appear in metrics labels and statistics (`human:<name>`). */
export const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CreatedOperator {
  readonly operator: Operator;
  /** The only time the password exists in clear: it is stored as a scrypt hash. */
  readonly password: string;
}

/** Creates an operator with a generated password; undefined when the name is taken. */
export async function createOperator(
  storage: Pick<ConsoleStore, 'createOperator'>,
  name: string,
  role: OperatorRole,
  now: number = Date.now(),
): Promise<CreatedOperator | undefined> {
  if (!OPERATOR_NAME.test(name)) throw new Error('an operator name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  const password = newPassword();
  const operator: Operator = { name, role, passwordHash: await hashPassword(password), disabled: false, createdAt: now };
  return (await storage.createOperator(operator)) ? { operator, password } : undefined;
}
