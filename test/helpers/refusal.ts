// The error a call that must refuse threw (a test fails with "did not refuse" when it returned).
import type { RefusedError } from '../../src/shared/errors.js';

export function refusal(f: () => unknown): RefusedError {
  try {
    f();
  } catch (e) {
    return e as RefusedError;
  }
  throw new Error('did not refuse');
}

export async function refusalOf(p: Promise<unknown>): Promise<RefusedError> {
  try {
    await p;
  } catch (e) {
    return e as RefusedError;
  }
  throw new Error('did not refuse');
}
