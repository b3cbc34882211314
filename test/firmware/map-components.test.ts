// Flash and RAM per firmware component from the GNU ld map (tools/build/map-components.ts), as
// `npm run size` prints them: a map written here by hand, and the real one where the firmware was built.
import { describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { mapComponents, mapComponentsOf } from "../../tools/build/map-components.ts";
import { ROOT } from "../../tools/abi/generate.ts";
import { needs } from "../helpers/inputs.ts";

const MAP = `Discarded input sections

 .text.unused   0x00000000       0x40 CMakeFiles/picowire.dir/opt/pico-sdk/lib/lwip/src/core/tcp.c.o

Linker script and memory map

.text           0x10000100    0x2000
 .text.tcp_input
                0x10000100      0x200 CMakeFiles/picowire.dir/opt/pico-sdk/lib/lwip/src/core/tcp_in.c.o
 .text.w2c_f1   0x10000300      0x180 libpicowire_host.a(picowire_core.c.o)
 .text          0x10000480       0x20 /usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v6-m/nofp/libgcc.a(_udivsi3.o)
 *fill*         0x100004a0        0x4
 .rodata.cyw43_fw
                0x100004a4     0x1000 CMakeFiles/picowire.dir/opt/pico-sdk/lib/cyw43-driver/src/cyw43_bus_pio_spi.c.o
.data           0x20000000      0x30 load address 0x100014a4
 .data.pbufs    0x20000000       0x30 CMakeFiles/picowire.dir/opt/pico-sdk/lib/lwip/src/core/pbuf.c.o
.bss            0x20000030     0x110
 .bss.host      0x20000030      0x100 libpicowire_host.a(pw_host.c.o)
 .bss.empty     0x20000130        0x0 platform_pico.c.o
 COMMON         0x20000130       0x10 CMakeFiles/picowire.dir/platform_pico.c.o
`;

describe("firmware size per component, from the linker map", () => {
  it("sums kept input sections by component: flash for XIP, RAM for SRAM, both for .data", () => {
    const rows = Object.fromEntries(mapComponents(MAP).map((r) => [r.name, [r.flash, r.ram]]));
    expect(rows).toEqual({
      "lwIP": [0x200 + 0x30, 0x30], // tcp_input (the discarded one is not counted) and the initialised pbufs
      "core (translated wasm)": [0x180, 0],
      "C library (newlib, libgcc)": [0x20, 0],
      "CYW43 driver + firmware": [0x1000, 0], // its name stood on a line of its own
      "host + engine": [0, 0x100],
      "Pico port (native/pico)": [0, 0x10],
    });
  });

  const map = join(ROOT, "build/pico/native/pico/picowire.elf.map");
  needs(existsSync(map) ? null : "the firmware's linker map (npm run build with the Pico SDK)").it("accounts for the real firmware's flash within 2 % of arm-none-eabi-size", () => {
    const rows = mapComponentsOf(map);
    const text = Number(spawnSync("arm-none-eabi-size", [map.replace(/\.map$/, "")], { encoding: "utf8" }).stdout.split("\n")[1]?.trim().split(/\s+/)[0]);
    const flash = rows.reduce((n, r) => n + r.flash, 0);
    expect(Math.abs(flash - text) / text).toBeLessThan(0.02);
    expect(rows.find((r) => r.name === "other")?.flash ?? 0).toBeLessThan(0.01 * flash); // nearly all of it named
  });
});
