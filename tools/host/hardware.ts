// Simulated board peripherals for virtual boards: GPIO, PWM, ADC, LED-strip pixels. Tests and the CLI
// read and set this state; the core reaches it only through the ABI imports.
import { C } from "./abi.generated.ts";

/** GP23-25 and GP29 are wired to the CYW43 radio on a Pico W. */
export const RADIO_PINS = new Set([23, 24, 25, 29]);

export interface PinState {
  mode: "unset" | "in" | "out";
  pull: number;
  level: number;
  pwm?: { freqHz: number; duty: number };
  watch: number;
}

export class Hardware {
  readonly pins = new Map<number, PinState>();
  readonly adc = [0, 0, 0, 0, 2048]; // channel 4: temperature sensor
  private shown: { pin: number; bytes: Uint8Array } | null = null;
  /** LED-strip frames shown (pixels_show), and a hook called with each (the CLI's --pixels). */
  pixelFrames = 0;
  onPixels: (pin: number, bytes: Uint8Array) => void = () => {};
  /** The last frame pixels_show sent: wire bytes (colour order, gamma and brightness applied). */
  get pixels(): { pin: number; bytes: Uint8Array } | null {
    return this.shown;
  }
  set pixels(v: { pin: number; bytes: Uint8Array } | null) {
    this.shown = v;
    if (!v) return;
    this.pixelFrames++;
    this.onPixels(v.pin, v.bytes);
  }
  onEdge: (pin: number, level: number) => void = () => {};
  /** Inputs held at a level from outside (a button pressed at boot): setup's pull does not change them. */
  readonly held = new Map<number, number>();

  private pin(n: number): PinState | null {
    const valid = n === C.PIN_LED || (Number.isInteger(n) && n >= 0 && n < C.PIN_COUNT && !RADIO_PINS.has(n));
    if (!valid) return null;
    let p = this.pins.get(n);
    if (!p) this.pins.set(n, (p = { mode: "unset", pull: C.PULL_NONE, level: 0, watch: 0 }));
    return p;
  }

  setup(n: number, mode: number, pull: number): number {
    const p = this.pin(n);
    if (!p) return C.ERR_NOTFOUND;
    if ((mode !== C.GPIO_IN && mode !== C.GPIO_OUT) || pull < C.PULL_NONE || pull > C.PULL_DOWN) return C.ERR_INVAL;
    p.mode = mode === C.GPIO_OUT ? "out" : "in";
    p.pull = pull;
    p.pwm = undefined;
    if (p.mode === "in") p.level = this.held.get(n) ?? (pull === C.PULL_UP ? 1 : 0);
    return C.OK;
  }

  write(n: number, value: number): number {
    const p = this.pin(n);
    if (!p) return C.ERR_NOTFOUND;
    if (p.mode !== "out" && n !== C.PIN_LED) return C.ERR_INVAL;
    p.level = value ? 1 : 0;
    p.pwm = undefined;
    return C.OK;
  }

  read(n: number): number {
    const p = this.pin(n);
    return p ? p.level : C.ERR_NOTFOUND;
  }

  watch(n: number, edges: number): number {
    const p = this.pin(n);
    if (!p) return C.ERR_NOTFOUND;
    p.watch = edges;
    return C.OK;
  }

  pwm(n: number, freqHz: number, duty: number): number {
    const p = this.pin(n);
    if (!p || n === C.PIN_LED) return C.ERR_NOTFOUND; // the LED sits on the radio chip: no PWM
    if (freqHz < 1 || duty < 0 || duty > 65535) return C.ERR_RANGE;
    p.mode = "out";
    p.pwm = { freqHz, duty };
    return C.OK;
  }

  adcRead(channel: number): number {
    return channel >= 0 && channel < this.adc.length ? this.adc[channel] : C.ERR_NOTFOUND;
  }

  /** What a test does to an input pin: the level changes and a watched edge reaches the core. */
  drive(n: number, level: number): void {
    const p = this.pin(n);
    if (!p) throw new Error(`pin ${n} does not exist or belongs to the radio`);
    const old = p.level;
    p.level = level ? 1 : 0;
    const edge = p.level > old ? C.EDGE_RISE : p.level < old ? C.EDGE_FALL : 0;
    if (edge & p.watch) this.onEdge(n, p.level);
  }

  /** The colour an RGB LED on three PWM pins shows, as 0..65535 duties. */
  duties(pins: number[]): number[] {
    return pins.map((n) => this.pins.get(n)?.pwm?.duty ?? 0);
  }
}

/** One line about an LED-strip frame: pixels, and the first few as wire-order hex. */
export function pixelSummary(pin: number, bytes: Uint8Array, show = 8): string {
  const n = Math.floor(bytes.length / 3);
  const px = Array.from({ length: Math.min(n, show) }, (_, i) => Buffer.from(bytes.subarray(i * 3, i * 3 + 3)).toString("hex"));
  return `GP${pin} ${n} px: ${px.join(" ")}${n > show ? " ..." : ""}`;
}
