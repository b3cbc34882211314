// The CYW43439 wired where it sits on a Pico W: WL_ON GP23, data and host-wake IRQ shared on GP24, CS
// GP25, clock GP29. The model watches the pins the SDK's PIO program and GPIO code drive and drives GP24
// back: response bits while CS is low, the interrupt level while CS is high. Nothing in the image changes.
import type { RP2040 } from "rp2040js";
import { GspiBus } from "./gspi.ts";
import type { Cyw43Chip } from "./chip.ts";

export const WL_ON = 23;
export const WL_DATA = 24;
export const WL_CS = 25;
export const WL_CLK = 29;

const HIGH = 1; // GPIOPinState.High

export interface Cyw43Wiring {
  bus: GspiBus;
  /** Rising clock edges seen (for the bench: bits moved). */
  edges: number;
}

export function attachCyw43(mcu: RP2040, chip: Cyw43Chip): Cyw43Wiring {
  const bus = new GspiBus(chip);
  const wiring: Cyw43Wiring = { bus, edges: 0 };
  const gpio = mcu.gpio;
  const data = gpio[WL_DATA];
  let driven = false; // the level the chip puts on GP24 (rp2040js keeps its own copy private)
  const drive = (level: boolean) => {
    if (driven === level) return;
    driven = level;
    data.setInputValue(level);
  };
  const irq = () => {
    if (!bus.isSelected) drive(chip.irqLevel());
  };
  chip.onIrqChange = irq;

  gpio[WL_ON].addListener((state) => {
    chip.setPower(state === HIGH);
    irq();
  });
  gpio[WL_CS].addListener((state) => {
    if (state === HIGH) {
      bus.deselect();
      irq();
    } else if (chip.powered) {
      bus.select();
      drive(false);
    }
  });
  let clockHigh = false;
  gpio[WL_CLK].addListener((state) => {
    const high = state === HIGH;
    if (high === clockHigh) return;
    clockHigh = high;
    if (!high || !bus.isSelected) return;
    wiring.edges++;
    // the host drives GP24 when its PIO has the pin as an output
    const hostDrives = data.outputEnable;
    const bit = bus.clock(hostDrives, hostDrives && data.outputValue);
    if (!hostDrives) drive(bit);
  });
  return wiring;
}
