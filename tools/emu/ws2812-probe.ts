// Watches a GPIO of the emulated RP2040 and decodes a WS2812 bit stream from it: the high time of each
// bit, in the driving PIO state machine's own cycles (rp2040js runs PIO apart from the CPU, but counts
// each state machine's cycles, delays included), tells a 1 (long) from a 0 (short).
import type { Simulator } from "rp2040js";

interface Machine {
  cycles: number;
  enabled: boolean;
}

export interface Ws2812Probe {
  /** The bytes decoded so far, most significant bit first. */
  bytes(): number[];
  /** High times seen, in PIO cycles (for diagnostics). */
  highs: number[];
}

export function probeWs2812(sim: Simulator, pin: number): Ws2812Probe {
  const mcu = sim.rp2040 as unknown as { gpio: { addListener(cb: (state: number) => void): void }[]; pio: { machines: Machine[] }[] };
  const machines = () => mcu.pio.flatMap((p) => p.machines);
  const clock = () => Math.max(...machines().map((m) => m.cycles)); // the one running state machine
  const highs: number[] = [];
  let roseAt = -1;
  let high = false;
  mcu.gpio[pin].addListener((state) => {
    const level = state === 1; // GPIOPinState.High
    if (level === high) return;
    high = level;
    if (level) roseAt = clock();
    else if (roseAt >= 0) highs.push(clock() - roseAt);
  });
  return {
    highs,
    bytes() {
      if (!highs.length) return [];
      const cut = (Math.min(...highs) + Math.max(...highs)) / 2;
      const bits = highs.map((h) => (h > cut ? 1 : 0));
      const out: number[] = [];
      for (let i = 0; i + 8 <= bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((v, b) => (v << 1) | b, 0));
      return out;
    },
  };
}
