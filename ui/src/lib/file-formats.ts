import { collectOtlpSpans, isOtlpJson } from './otlp-json.js';
import { isJaegerJson, parseJaegerJson } from './jaeger-json.js';
import { makeTrace, type UiSpan, type UiTrace } from './model.js';

export type FileFormat = 'otlp-json' | 'otlp-jsonl' | 'jaeger-json';

export interface ParsedFile {
  format: FileFormat;
  traces: UiTrace[];
}

/**
 * Parses an uploaded trace file: OTLP JSON (TracesData, ExportTraceServiceRequest or API v3's
 * `{result}`), OTLP JSONL (one such document per line, as the Collector's file exporter writes),
 * or Jaeger JSON (`{data: [trace]}` from API v1 / Jaeger UI's download, or one bare trace).
 * Spans of one trace spread over several documents are joined. Throws an Error with a message
 * for the user when the text is none of these.
 */
export function parseTraceFile(text: string): ParsedFile {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('the file is empty');
  let doc: unknown;
  let whole = true;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    whole = false;
  }
  if (whole) {
    if (Array.isArray(doc)) {
      // An array of documents: accept arrays of OTLP docs or Jaeger traces.
      const m = new Map<string, UiSpan[]>();
      const jaeger: UiTrace[] = [];
      for (const d of doc) {
        if (isOtlpJson(d)) collectOtlpSpans(d, m);
        else if (isJaegerJson(d)) jaeger.push(...parseJaegerJson(d));
        else throw new Error('unrecognised trace file: expected OTLP JSON or Jaeger JSON');
      }
      return { format: jaeger.length > 0 ? 'jaeger-json' : 'otlp-json', traces: [...jaeger, ...toTraces(m)] };
    }
    if (isOtlpJson(doc)) {
      const m = new Map<string, UiSpan[]>();
      collectOtlpSpans(doc, m);
      return { format: 'otlp-json', traces: toTraces(m) };
    }
    if (isJaegerJson(doc)) return { format: 'jaeger-json', traces: parseJaegerJson(doc) };
    throw new Error('unrecognised trace file: expected OTLP JSON (resourceSpans) or Jaeger JSON (data[].spans)');
  }
  // JSON Lines.
  const m = new Map<string, UiSpan[]>();
  const jaeger: UiTrace[] = [];
  const lines = trimmed.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let d: unknown;
    try {
      d = JSON.parse(line);
    } catch (e) {
      throw new Error(`line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
    if (isOtlpJson(d)) collectOtlpSpans(d, m);
    else if (isJaegerJson(d)) jaeger.push(...parseJaegerJson(d));
    else throw new Error(`line ${i + 1} is neither OTLP JSON nor Jaeger JSON`);
  }
  return { format: jaeger.length > 0 && m.size === 0 ? 'jaeger-json' : 'otlp-jsonl', traces: [...jaeger, ...toTraces(m)] };
}

function toTraces(m: Map<string, UiSpan[]>): UiTrace[] {
  return [...m].map(([id, spans]) => makeTrace(id, spans));
}
