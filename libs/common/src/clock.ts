/**
 * Injection tokens for what a use case takes from its surroundings so that a test can fix it:
 * the time and new ids. Unbound by default (classes fall back to the real clock and their own
 * id scheme); a test module binds them with overrideProvider or a provider of its own.
 */
export const CLOCK = Symbol('CLOCK');
export type Clock = () => Date;

export const NEW_ID = Symbol('NEW_ID');
export type NewId = () => string;
