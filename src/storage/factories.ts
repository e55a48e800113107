/**
 * The storage backend types that `jaeger_storage.backends.NAME` can use, one line each
 * (backends add their own line here). Backends must not load heavy dependencies at import time:
 * this list is imported by every command, including `skua validate`.
 */
import type { StorageFactory } from './api.js';
import { factory as clickhouse } from './clickhouse/factory.js';
import { factory as memory } from './memory/factory.js';

export const storageFactories: readonly StorageFactory<any>[] = [memory, clickhouse];

export function storageFactory(type: string): StorageFactory<any> | undefined {
  return storageFactories.find((f) => f.type === type);
}

export function storageTypes(): string[] {
  return storageFactories.map((f) => f.type).sort();
}
