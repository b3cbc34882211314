// Pins as the control protocol sees them, with fail-safe reverts: a write_pin carries a timeout after
// which the pin returns to its safe level, the level before the write (or before the first of several
// overlapping writes). A newer write replaces the pending deadline; dropping the connection does not
// cancel it. The host keeps the safe level too (pin_safe), so it holds even if the core dies.
import { host_gpio_setup, host_gpio_write, host_gpio_read, host_pin_safe, host_pwm_set, PIN_COUNT, PIN_LED, GPIO_IN, GPIO_OUT, PULL_NONE, LOG_INFO } from "../abi/host.generated";
import { reached, msUntil } from "../util/time";
import { putLine, putWithI32 } from "../util/log";

export const MODE_UNSET: u8 = 0;
export const MODE_INPUT: u8 = 1;
export const MODE_OUTPUT: u8 = 2;
export const MODE_PWM: u8 = 3;

const SLOTS: i32 = PIN_COUNT + 1; // GPIO 0..29, then the LED
const mode = memory.data(SLOTS);
const level = memory.data(SLOTS);
const safe = memory.data(SLOTS); // 0/1, 255: no revert pending
const revertAt = memory.data(SLOTS * 4);
let pending = 0; // reverts pending: at 0 pinsTick, which runs after every event, has nothing to look at
export let reverts: u32 = 0;

/** Index into the tables for a pin number, -1 for pins that do not exist or belong to the radio. */
export function pinIndex(pin: i32): i32 {
  if (pin == PIN_LED) return PIN_COUNT;
  if (pin < 0 || pin >= PIN_COUNT || pin == 23 || pin == 24 || pin == 25 || pin == 29) return -1;
  return pin;
}

export function isRadioPin(pin: i32): bool {
  return pin == 23 || pin == 24 || pin == 25 || pin == 29;
}

function pinOf(i: i32): i32 {
  return i == PIN_COUNT ? PIN_LED : i;
}

export function pinsReset(): void {
  memory.fill(mode, 0, SLOTS);
  memory.fill(level, 0, SLOTS);
  memory.fill(safe, 255, SLOTS);
  pending = 0;
}

export function pinMode(i: i32): u8 {
  return load<u8>(mode + i);
}

export function revertPending(i: i32): bool {
  return load<u8>(safe + i) != 255;
}

function cancelRevert(i: i32): void {
  if (!revertPending(i)) return;
  store<u8>(safe + i, 255);
  pending--;
  host_pin_safe(pinOf(i), -1);
}

/** Configures a pin; the host's error code, or OK. */
export function setup(i: i32, output: bool, pull: i32, initial: i32): i32 {
  cancelRevert(i);
  let r = i == PIN_COUNT ? 0 : host_gpio_setup(pinOf(i), output ? GPIO_OUT : GPIO_IN, pull);
  if (r < 0) return r;
  store<u8>(mode + i, output ? MODE_OUTPUT : MODE_INPUT);
  if (output) {
    r = host_gpio_write(pinOf(i), initial);
    if (r < 0) return r;
    store<u8>(level + i, <u8>initial);
  }
  return 0;
}

/** Unconfigures a pin: an input without pull, as after reset, no longer the core's. */
export function release(i: i32): i32 {
  cancelRevert(i);
  let r = i == PIN_COUNT ? 0 : host_gpio_setup(pinOf(i), GPIO_IN, PULL_NONE);
  if (r >= 0) store<u8>(mode + i, MODE_UNSET);
  return r;
}

/** Drives an output with a fail-safe deadline `ms` from now. */
export function writeWithRevert(i: i32, value: i32, now: u32, ms: u32): i32 {
  if (!revertPending(i)) {
    store<u8>(safe + i, load<u8>(level + i)); // the level before the first of overlapping writes
    pending++;
    host_pin_safe(pinOf(i), load<u8>(level + i));
  }
  store<u32>(revertAt + (i << 2), now + ms);
  let r = host_gpio_write(pinOf(i), value);
  if (r < 0) return r;
  store<u8>(level + i, <u8>value);
  return 0;
}

export function read(i: i32): i32 {
  if (load<u8>(mode + i) == MODE_OUTPUT || i == PIN_COUNT) return load<u8>(level + i);
  return host_gpio_read(pinOf(i));
}

export function pwm(i: i32, freq: i32, duty: i32): i32 {
  cancelRevert(i);
  let r = host_pwm_set(pinOf(i), freq, duty);
  if (r >= 0) store<u8>(mode + i, MODE_PWM);
  return r;
}

/** Applies reverts that are due; returns ms until the next one (u32.MAX_VALUE: none). */
export function pinsTick(now: u32): u32 {
  let next = u32.MAX_VALUE;
  if (pending == 0) return next;
  for (let i = 0; i < SLOTS; i++) {
    if (!revertPending(i)) continue;
    let at = load<u32>(revertAt + (i << 2));
    if (reached(now, at)) {
      let v = load<u8>(safe + i);
      host_gpio_write(pinOf(i), v);
      store<u8>(level + i, v);
      cancelRevert(i);
      reverts++;
      putWithI32("control: pin ", pinOf(i));
      putWithI32(" reverted to ", v);
      putLine(" (fail-safe timeout)", LOG_INFO);
    } else next = min(next, msUntil(now, at));
  }
  return next;
}
