/** Facts about the task lifecycle that every storage adapter applies the same way. */

/** The code an unfinished task reads once its deadline has passed. */
export const OVERDUE_CODE = 'ERROR_CAPTCHA_UNSOLVABLE';
