/** The brigades (`GET /brigades`), fetched once per run of the mini program. */
import { api } from './api';
import { Brigade } from './booking';

let cache: Brigade[] | null = null;

export async function loadBrigades(): Promise<Brigade[]> {
  if (!cache) {
    const list = await api.get<Brigade[]>('brigades');
    cache = Array.isArray(list) ? list : [];
  }
  return cache;
}

/** Forgets the list (tests, and a pull-down refresh). */
export function forgetBrigades(): void {
  cache = null;
}
