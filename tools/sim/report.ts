// A run's report: the timeline and the figures as text, or one JSON object.
import type { SimResult } from "./run.ts";

const fmtMs = (ms: number | null) => (ms === null ? "-" : `${ms} ms`);

export function textReport(r: SimResult, opts: { timelineMax?: number; wallMs?: number } = {}): string {
  const out: string[] = [];
  const max = opts.timelineMax ?? 400;
  out.push(`picowire sim: ${r.nodes} boards, topology ${r.topology}, ${r.seconds} s virtual, seed ${r.seed}`);
  out.push("model parameters:");
  for (const [k, v] of Object.entries(r.params)) {
    if (Array.isArray(v)) {
      out.push(`  ${k}:${v.length ? "" : " none"}`);
      for (const x of v) out.push(`    ${x}`);
    } else out.push(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
  out.push("timeline:");
  for (const line of r.timeline.slice(0, max)) out.push(line);
  if (r.timeline.length > max) out.push(`  ... ${r.timeline.length - max} more lines (--timeline-max N)`);
  out.push("figures:");
  out.push(`  converged (one master followed by all ${r.nodes}): ${fmtMs(r.converge_ms)}`);
  const f = r.failover_ms;
  out.push(`  failover after a master kill: p50 ${fmtMs(f.p50)}, p99 ${fmtMs(f.p99)} over ${f.count} kill(s)${f.unresolved ? `, ${f.unresolved} never recovered` : ""}`);
  out.push(`  elections started: ${r.elections}, role changes: ${r.role_changes}${r.term_regressions ? `, term went backwards ${r.term_regressions} time(s)` : ""}`);
  out.push(`  datagrams per board per second: ${r.msgs_per_node_s} (${r.bytes_per_node_s} B/s; the cores count ${r.core_sent_per_node_s})`);
  out.push(`  timer wakeups per board per second: ${r.wakeups_per_node_s} (busiest board ${r.wakeups_max_s})`);
  const n = r.net;
  out.push(`  network: ${n.sent} sent (${n.broadcasts} broadcast), ${n.delivered} delivered, ${n.lost} lost, ${n.duplicated} duplicated, ${n.partitioned} cut by partitions, ${n.unreachable} to nobody`);
  const m = r.memory;
  out.push(`  memory per board: core heap top ${m.heap_top_max} B of its ${m.heap_limit} B cap; wasm linear memory ${m.wasm_memory_bytes} B`);
  out.push(`  ${r.events} events${opts.wallMs !== undefined ? ` in ${opts.wallMs} ms wall time` : ""}; trace ${r.trace_sha256.slice(0, 16)}`);
  for (const w of r.warnings) out.push(`WARNING: ${w}`);
  if (r.violations) {
    out.push(`FAILED: ${r.violations} invariant violation(s):`);
    for (const v of r.violation_list) out.push(`  ${(v.t / 1000).toFixed(3)}s ${v.kind}: ${v.text}`);
    out.push(`seed ${r.seed}; replay: ${r.replay ?? "(same options)"}`);
  } else out.push("invariants: safety and liveness held");
  return out.join("\n");
}

export function jsonReport(r: SimResult, wallMs?: number): string {
  const { timeline, ...rest } = r;
  return JSON.stringify({ ...rest, timeline_lines: timeline.length, wall_ms: wallMs });
}
