/**
 * Automatic layout of the service map: a layered (Sugiyama-style) drawing, left to right.
 * 1. cycles are broken by reversing DFS back edges (only for layering; edges keep their direction);
 * 2. each node's layer is its longest path from a source;
 * 3. nodes are ordered within layers by repeated barycenter sweeps to reduce crossings;
 * 4. coordinates: layers are columns, nodes are spaced evenly and centred vertically.
 */
export interface GraphEdge {
  from: string;
  to: string;
  weight: number;
}

export interface LaidOutNode {
  id: string;
  layer: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge extends GraphEdge {
  /** Start and end points on the node borders, and a control point for a quadratic curve. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cx: number;
  cy: number;
  /** true when the edge goes backwards (right to left) or is a self-loop. */
  back: boolean;
}

export interface GraphLayout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

export interface LayoutOptions {
  nodeWidth?: (id: string) => number;
  nodeHeight?: number;
  layerGap?: number;
  nodeGap?: number;
  margin?: number;
}

export function layoutGraph(nodeIds: readonly string[], edges: readonly GraphEdge[], opts: LayoutOptions = {}): GraphLayout {
  const nodeWidth = opts.nodeWidth ?? ((id: string) => Math.max(80, id.length * 7.5 + 24));
  const nodeHeight = opts.nodeHeight ?? 36;
  const layerGap = opts.layerGap ?? 120;
  const nodeGap = opts.nodeGap ?? 28;
  const margin = opts.margin ?? 24;
  const ids = [...new Set([...nodeIds, ...edges.flatMap((e) => [e.from, e.to])])].sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const n = ids.length;
  const out: number[][] = ids.map(() => []);
  for (const e of edges) if (e.from !== e.to) out[index.get(e.from)!]!.push(index.get(e.to)!);
  // 1. DFS to find back edges.
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const back = new Set<string>();
  for (let s = 0; s < n; s++) {
    if (state[s]) continue;
    const stack: Array<[number, number]> = [[s, 0]];
    state[s] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [v, k] = top;
      const nbrs = out[v]!;
      if (k < nbrs.length) {
        top[1]++;
        const w = nbrs[k]!;
        if (state[w] === 1) back.add(`${v},${w}`);
        else if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  const dag: number[][] = ids.map(() => []);
  const indeg = new Int32Array(n);
  for (let v = 0; v < n; v++)
    for (const w of out[v]!) {
      const [a, b] = back.has(`${v},${w}`) ? [w, v] : [v, w];
      if (!dag[a]!.includes(b)) {
        dag[a]!.push(b);
        indeg[b]!++;
      }
    }
  // 2. Longest-path layering (Kahn's order).
  const layer = new Int32Array(n);
  const queue: number[] = [];
  const deg = indeg.slice();
  for (let v = 0; v < n; v++) if (deg[v] === 0) queue.push(v);
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    for (const w of dag[v]!) {
      layer[w] = Math.max(layer[w]!, layer[v]! + 1);
      if (--deg[w]! === 0) queue.push(w);
    }
  }
  const layerCount = n === 0 ? 0 : Math.max(...layer) + 1;
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  for (let v = 0; v < n; v++) layers[layer[v]!]!.push(v);
  // 3. Barycenter ordering.
  const pos = new Float64Array(n);
  const setPos = (): void => layers.forEach((l) => l.forEach((v, i) => (pos[v] = i)));
  setPos();
  const preds: number[][] = ids.map(() => []);
  const succs: number[][] = ids.map(() => []);
  for (let v = 0; v < n; v++)
    for (const w of out[v]!) {
      succs[v]!.push(w);
      preds[w]!.push(v);
    }
  const bary = (v: number, nb: number[]): number => (nb.length ? nb.reduce((s, w) => s + pos[w]!, 0) / nb.length : pos[v]!);
  for (let it = 0; it < 6; it++) {
    const down = it % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const l of seq) {
      const keyed = l.map((v) => [v, bary(v, down ? preds[v]! : succs[v]!)] as const);
      keyed.sort((x, y) => x[1] - y[1] || x[0] - y[0]);
      l.splice(0, l.length, ...keyed.map((k) => k[0]));
      l.forEach((v, i) => (pos[v] = i));
    }
  }
  // 4. Coordinates.
  const widths = ids.map((id) => nodeWidth(id));
  const colWidth = layers.map((l) => Math.max(0, ...l.map((v) => widths[v]!)));
  const colX: number[] = [];
  let x = margin;
  for (let i = 0; i < layerCount; i++) {
    colX.push(x);
    x += colWidth[i]! + layerGap;
  }
  const maxRows = Math.max(0, ...layers.map((l) => l.length));
  const height = margin * 2 + maxRows * nodeHeight + Math.max(0, maxRows - 1) * nodeGap;
  const nodes: LaidOutNode[] = new Array(n);
  layers.forEach((l, li) => {
    const h = l.length * nodeHeight + Math.max(0, l.length - 1) * nodeGap;
    let y = (height - h) / 2;
    for (const v of l) {
      const w = widths[v]!;
      nodes[v] = { id: ids[v]!, layer: li, x: colX[li]! + (colWidth[li]! - w) / 2, y, width: w, height: nodeHeight };
      y += nodeHeight + nodeGap;
    }
  });
  const width = n === 0 ? margin * 2 : x - layerGap + margin;
  const laidEdges: LaidOutEdge[] = edges.map((e) => {
    const a = nodes[index.get(e.from)!]!;
    const b = nodes[index.get(e.to)!]!;
    if (a === b) {
      return { ...e, x1: a.x + a.width * 0.7, y1: a.y, x2: a.x + a.width * 0.3, y2: a.y, cx: a.x + a.width / 2, cy: a.y - 40, back: true };
    }
    const forward = b.layer > a.layer;
    const x1 = forward ? a.x + a.width : a.x + a.width / 2;
    const y1 = forward ? a.y + a.height / 2 : a.y + a.height;
    const x2 = forward ? b.x : b.x + b.width / 2;
    const y2 = forward ? b.y + b.height / 2 : b.y + b.height;
    const cx = (x1 + x2) / 2;
    const cy = forward ? (y1 + y2) / 2 : Math.max(y1, y2) + 50;
    return { ...e, x1, y1, x2, y2, cx, cy, back: !forward };
  });
  return { nodes, edges: laidEdges, width, height };
}
