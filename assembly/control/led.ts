// The board's status LED, driven by the core: connecting = three 100 ms blinks 200 ms apart then a
// 1 s pause; listening = 1.5 s on / 1.5 s off; a control client connected = a 20 ms blink every 100 ms.
import { host_gpio_write, host_wifi_status, PIN_LED, IFACE_STA, IFACE_AP, WIFI_UP } from "../abi/host.generated";

export const LED_OFF: i32 = 0;
export const LED_CONNECTING: i32 = 1;
export const LED_LISTENING: i32 = 2;
export const LED_CLIENT: i32 = 3;

// Times (ms into the cycle) at which the LED toggles, starting lit; the last one ends the cycle.
const CONNECTING = memory.data<u16>([100, 200, 300, 400, 500, 1500]);
const LISTENING = memory.data<u16>([1500, 3000]);
const CLIENT = memory.data<u16>([20, 100]);

let pattern: i32 = LED_OFF;
let started: u32 = 0;
let lit: i32 = -1;
export let enabled = false;

function steps(p: i32): usize {
  return p == LED_CONNECTING ? CONNECTING : p == LED_LISTENING ? LISTENING : CLIENT;
}

/** The pattern's period: its last toggle time. */
function period(p: i32): u32 {
  return p == LED_CONNECTING ? 1500 : p == LED_LISTENING ? 3000 : 100;
}

export function currentPattern(): i32 {
  return pattern;
}

/** Chooses the pattern from the board's state; returns ms until the LED next changes. */
export function ledTick(now: u32, clients: i32, listening: bool): u32 {
  if (!enabled) return u32.MAX_VALUE;
  let online = host_wifi_status(IFACE_STA) == WIFI_UP || host_wifi_status(IFACE_AP) == WIFI_UP;
  let want = !online ? LED_CONNECTING : clients > 0 ? LED_CLIENT : listening ? LED_LISTENING : LED_OFF;
  if (want != pattern) {
    pattern = want;
    started = now;
  }
  if (pattern == LED_OFF) {
    if (lit != 0) host_gpio_write(PIN_LED, (lit = 0));
    return u32.MAX_VALUE;
  }
  let s = steps(pattern);
  let t = (now - started) % period(pattern);
  let k = 0;
  while (<u32>load<u16>(s + (k << 1)) <= t) k++;
  let level = (k & 1) == 0 ? 1 : 0;
  if (level != lit) host_gpio_write(PIN_LED, (lit = level));
  return <u32>load<u16>(s + (k << 1)) - t;
}
