import { KEYSET_TYPE, OWNER_TYPE, ROW_STRUCTURE } from './rows.js';
import { parseStructure, rowBinaryToJson } from './rowbinary.js';
import { T, tableRef } from './schema.js';

/** What one INSERT carries: rows plus the dictionary entries they refer to. */
export interface InsertBatch {
  /** RowBinary rows of ROW_STRUCTURE, in chunks. */
  readonly body: readonly Buffer[];
  readonly owners: ReadonlyMap<number, string>;
  readonly keysets: ReadonlyMap<number, string>;
}

const COLUMNS = [
  'Tenant',
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ResourceSchemaUrl',
  'ScopeName',
  'ScopeVersion',
  'ScopeAttributes',
  'ScopeSchemaUrl',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  '`Events.Timestamp`',
  '`Events.Name`',
  '`Events.Attributes`',
  '`Links.TraceId`',
  '`Links.SpanId`',
  '`Links.TraceState`',
  '`Links.Attributes`',
  'Extra',
].join(', ');

const SELECT = [
  'own.1',
  'fromUnixTimestamp64Nano(ts)',
  'tid',
  'sid',
  'pid',
  'tst',
  'name',
  "['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][kind + 1]",
  'own.2',
  'own.3',
  'own.4',
  'own.5',
  'own.6',
  'own.7',
  'own.8',
  'mapFromArrays(ks.1, av)',
  'dur',
  "['Unset', 'Ok', 'Error'][sc + 1]",
  'sm',
  'arrayMap(t -> fromUnixTimestamp64Nano(t), ets)',
  'en',
  'ea',
  'ltid',
  'lsid',
  'lts',
  'la',
  "if(xc = '', '', concat('{', xc, '}'))",
].join(', ');

const ROW_TYPES = parseStructure(ROW_STRUCTURE);

function idMap(ids: readonly number[]): string {
  return `[${ids.join(',')}], [${ids.map((_, i) => i + 1).join(',')}]`;
}

/**
 * The INSERT … SELECT of a batch: with `file`, the rows are read by `file(…, RowBinary, …)` from
 * that file holding `batch.body` (the embedded engine); without, they are turned into
 * JSONCompactEachRow text and parsed by `format()` from a heredoc in the statement (a server: a
 * statement cannot carry binary). With the file, the statement's parser skips the rows (~2 µs less
 * CPU per span) and the engine parses binary rather than JSON (~1 µs less). Each row's
 * owner (tenant, resource, scope) and key set are looked up in the batch's dictionaries, given once
 * as JSON constants.
 */
export function insertSql(database: string, batch: InsertBatch, file?: string): string {
  const rows =
    file === undefined
      ? `format(JSONCompactEachRow, '${ROW_STRUCTURE}', $$${rowBinaryToJson(Buffer.concat(batch.body), ROW_TYPES)}$$)`
      : `file('${file}', RowBinary, '${ROW_STRUCTURE}')`;
  const ownerIds = [...batch.owners.keys()];
  const keysetIds = [...batch.keysets.keys()];
  return (
    `INSERT INTO ${tableRef({ database }, T.spans)} (${COLUMNS})\n` +
    `WITH JSONExtract($$[${[...batch.owners.values()].join(',')}]$$, '${OWNER_TYPE}') AS owners,\n` +
    `     JSONExtract($$[${[...batch.keysets.values()].join(',')}]$$, '${KEYSET_TYPE}') AS keysets\n` +
    `SELECT ${SELECT}\n` +
    `FROM (SELECT *, owners[transform(o, ${idMap(ownerIds)}, 0)] AS own, keysets[transform(k, ${idMap(keysetIds)}, 0)] AS ks,\n` +
    `        arrayStringConcat(arrayFilter(p -> p != '', [if(f = 0, '', concat('"f":', toString(f))), ks.2, own.9, x]), ',') AS xc\n` +
    `      FROM ${rows})`
  );
}
