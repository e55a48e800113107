import { runStorageConformance } from '../conformance.js';
import { newTestStore } from './testutil.js';

runStorageConformance({ name: 'clickhouse (embedded chDB)', newStore: () => newTestStore() });
