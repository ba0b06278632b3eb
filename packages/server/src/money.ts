/** Balances and prices are integers of millionths; the wire shows them as plain decimals. */

export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(micros));
  const whole = Math.floor(abs / 1_000_000);
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Parses a decimal amount (up to 6 places) into millionths. */
export function parseMicros(text: string): number | undefined {
  const match = /^(-?)([0-9]{1,12})(?:\.([0-9]{1,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  const micros = Number(match[2]) * 1_000_000 + Number((match[3] ?? '').padEnd(6, '0'));
  return match[1] === '-' ? -micros : micros;
}
