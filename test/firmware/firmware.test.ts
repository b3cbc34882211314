// The Pico W firmware: built by CMake from the identical build/picowire.wasm (tools/build/firmware.ts),
// and its boot/benchmark image run in the rp2040js emulator (tools/emu/run.ts): the banner must name
// the tested core's SHA-256, the core must initialise through the C host, and the benchmarks must run.
// Needs PICO_SDK_PATH (pico-sdk 2.2.0 with cyw43-driver and lwIP), arm-none-eabi-gcc, cmake, wasm2c,
// a locally built picotool (picotool_DIR) and the RP2040 bootrom (RP2040_BOOTROM): `npm run deps` provides them;
// without them the suite is skipped, loudly (and fails in CI). See docs/FIRMWARE.md.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFirmware, firmwareEnv, wasm3Env, hotOpsPlacement, EMU_UF2, EMU_WASM3_UF2, FIRMWARE_UF2, FIRMWARE_WASM2C_UF2, PICO_WASM3_BUILD, ROOT, UF2_MAX_BYTES } from "../../tools/build/firmware.ts";
import { findBootrom, runImage, type EmuResult } from "../../tools/emu/run.ts";
import { probeWs2812, type Ws2812Probe } from "../../tools/emu/ws2812-probe.ts";
import { USBCDC } from "rp2040js";
import { C } from "../../tools/host/abi.generated.ts";
import { commandRuns, needs } from "../helpers/inputs.ts";

const WASM = join(ROOT, "build", "picowire.wasm");
const EMBED = join(ROOT, "native", "pico", "cmake", "embed_wasm.cmake");
const EMBED_ASSET = join(ROOT, "native", "pico", "cmake", "embed_asset.cmake");
const PAGE = join(ROOT, "build", "index.html.gz"); // the dashboard page (npm run build)

const env = firmwareEnv();
const bootrom = findBootrom();
const missing = [...env.missing, ...("missing" in bootrom ? [bootrom.missing] : [])];
const hasCmake = commandRuns("cmake");
const w3 = wasm3Env();
/** Tests of the wasm3 images (the board's default), built where WASM3_PATH is set. */
const wasm3It = needs(w3.missing).it;

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

needs(hasCmake ? null : "cmake").describe("firmware embed step (native/pico/cmake/embed_wasm.cmake)", () => {
  const out = mkdtempSync(join(tmpdir(), "pw-embed-"));
  const embed = (extra: string[]) =>
    spawnSync(
      "cmake",
      [`-DWASM=${WASM}`, `-DOUT_C=${join(out, "core.c")}`, `-DOUT_H=${join(out, "core.h")}`, ...extra, "-P", EMBED],
      { encoding: "utf8" },
    );

  it("embeds the tested bytes and prints their SHA-256", () => {
    const r = embed([`-DTESTED=${WASM}`, `-DEXPECT=${sha256(WASM)}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain(`sha256 ${sha256(WASM)}`);
    const c = readFileSync(join(out, "core.c"), "utf8");
    expect(c).toContain(`pw_core_wasm_len = ${statSync(WASM).size}u`);
    expect(c).toContain(`"${sha256(WASM)}"`);
  });

  it("fails when the bytes are not the ones the tests ran", () => {
    const r = embed([`-DTESTED=${WASM}`, `-DEXPECT=${"0".repeat(64)}`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/expected\s+0{64}/); // CMake wraps its messages
    const other = join(ROOT, "native", "pico", "cmake", "embed_wasm.cmake"); // any other file
    const r2 = spawnSync(
      "cmake",
      [`-DWASM=${other}`, `-DTESTED=${WASM}`, `-DOUT_C=${join(out, "x.c")}`, `-DOUT_H=${join(out, "x.h")}`, "-P", EMBED],
      { encoding: "utf8" },
    );
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/is\s+not\s+the\s+tested\s+core/);
  });
});

needs(hasCmake ? null : "cmake").describe("firmware asset step (native/pico/cmake/embed_asset.cmake)", () => {
  const out = mkdtempSync(join(tmpdir(), "pw-asset-"));
  const embed = (file: string) =>
    spawnSync(
      "cmake",
      [`-DIN=${file}`, "-DNAME=index.html.gz", `-DOUT_C=${join(out, "a.c")}`, `-DOUT_H=${join(out, "a.h")}`, "-P", EMBED_ASSET],
      { encoding: "utf8" },
    );

  needs(existsSync(PAGE) ? null : "build/index.html.gz (npm run build)").it("embeds build/index.html.gz as a const array and prints its size and SHA-256", () => {
    const r = embed(PAGE);
    expect(r.status, r.stderr).toBe(0);
    const size = statSync(PAGE).size;
    expect(r.stdout + r.stderr).toContain(`${size} bytes, sha256 ${sha256(PAGE)}`);
    const c = readFileSync(join(out, "a.c"), "utf8");
    expect(c).toContain(`pw_asset_page_len = ${size}u`);
    expect(c).toContain(`const uint8_t pw_asset_page[${size}]`);
    const bytes = [...c.matchAll(/0x([0-9a-f]{2}),/g)].map((m) => parseInt(m[1], 16));
    expect(Buffer.from(bytes).equals(readFileSync(PAGE))).toBe(true);
  });

  it("fails clearly when the page has not been built", () => {
    const r = embed(join(out, "no-such-index.html.gz"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/does\s+not\s+exist/);
    expect(r.stderr).toMatch(/npm\s+run\s+build/);
  });
});

// The board's network code (native/pico/pw_lwip.c) on this computer: lwIP 2.2.1 over its loopback netif,
// the real host and core (wasm2c), raw lwIP peers sending in odd splits through small windows; built
// with ASan + UBSan. Needs cmake, wasm2c, a C compiler and an lwIP tree (the SDK's lib/lwip or LWIP_PATH).
const LWIP_PATH = process.env.LWIP_PATH ?? (env.sdk ? join(env.sdk, "lib", "lwip") : "");
const lwipMissing = [
  LWIP_PATH && existsSync(join(LWIP_PATH, "src", "Filelists.cmake")) ? null : "an lwIP tree (PICO_SDK_PATH with lib/lwip, or LWIP_PATH)",
  hasCmake ? null : "cmake",
  commandRuns("wasm2c") ? null : "wasm2c (apt-get install wabt)",
  commandRuns("cc") ? null : "a C compiler",
].filter((m): m is string => m !== null);

needs(lwipMissing).describe("pw_lwip.c over lwIP's loopback netif (host build, ASan+UBSan)", () => {
  it("serves the tutorial, HTTP, a 200 KB WebSocket echo and the embedded dashboard page through lwIP with split segments", () => {
    const dir = join(ROOT, "build", "pico-lwip-test");
    const cfg = spawnSync("cmake", ["-S", join(ROOT, "native/pico/test"), "-B", dir, `-DLWIP_PATH=${LWIP_PATH}`], { encoding: "utf8" });
    expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
    const build = spawnSync("cmake", ["--build", dir, "-j", "2"], { encoding: "utf8" });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    const r = spawnSync(join(dir, "pw_lwip_test"), [], { encoding: "utf8", timeout: 60_000 });
    console.log(r.stdout);
    expect(r.stdout).not.toContain("FAIL");
    expect(r.stdout).toContain("pw_lwip_test: all passed");
    // GET / answered build/index.html.gz byte for byte (compared in C with the file), core.sha256 is this core
    expect(r.stdout).toContain(`page: GET / -> HTTP/1.1 200`);
    expect(r.stdout).toContain(`Content-Length ${statSync(PAGE).size} (file: ${statSync(PAGE).size})`);
    expect(r.stdout).toMatch(/ok {3}page: the body is build\/index.html.gz byte for byte/);
    expect(r.stdout).toContain(`ok   assets: core.sha256 ${sha256(WASM)}`);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);
});

needs(missing).describe("firmware (Pico W UF2 + rp2040js boot image)", () => {
  let emu: EmuResult;
  let emuWasm3: EmuResult | undefined; // the wasm3 emulator image, where WASM3_PATH is set
  let board: EmuResult; // the real WiFi firmware, whose radio rp2040js does not emulate
  let boardWasm2c: EmuResult | undefined; // the wasm2c WiFi image, when build/picowire.uf2 is the wasm3 one
  let engine: string | undefined; // of build/picowire.uf2
  let strip: Ws2812Probe | undefined; // GP16, where emu_main.c's check_pixels() sends a frame
  const usbConsole = { connected: false, text: "" };

  beforeAll(async () => {
    const r = buildFirmware({ quiet: true }); // incremental: reuses build/pico when it is up to date
    expect(r.built, r.skipped).toBe(true);
    engine = r.engine;
    emu = await runImage(EMU_UF2, { timeoutMs: 240_000, setup: (sim) => (strip = probeWs2812(sim, 16)) });
    console.log(emu.output);
    if (w3.path) {
      emuWasm3 = await runImage(EMU_WASM3_UF2, { timeoutMs: 240_000 });
      console.log(emuWasm3.output);
      boardWasm2c = await runImage(FIRMWARE_WASM2C_UF2, { until: "\u0000never", simulatedMs: 12_000, timeoutMs: 300_000 });
    }
    // run it for 25 s of board time (the loop sleeps: a few seconds of wall time on an idle machine) and
    // look at what it said
    board = await runImage(FIRMWARE_UF2, { until: "\u0000never", simulatedMs: 25_000, timeoutMs: 300_000 });
    console.log(`${board.output}(${board.simulatedMs.toFixed(0)} ms simulated)`);
    // again with a computer on the USB port (its traffic slows the emulator, hence a run of its own)
    await runImage(FIRMWARE_UF2, {
      until: "\u0000never",
      simulatedMs: 25_000,
      timeoutMs: 300_000, // board time bounds the run; this only caps a stuck emulator
      setup: (sim) => {
        // a computer on the USB port: the console is a CDC serial port (stdio_usb, tinyusb)
        const cdc = new USBCDC((sim.rp2040 as unknown as { usbCtrl: ConstructorParameters<typeof USBCDC>[0] }).usbCtrl);
        cdc.onDeviceConnected = () => (usbConsole.connected = true);
        cdc.onSerialData = (b) => (usbConsole.text += new TextDecoder().decode(b));
      },
    });
  }, 900_000);

  it("boots the WiFi firmware, starts the core without a radio, and keeps running fed by the watchdog", () => {
    const banners = board.output.match(/picowire firmware: ABI v\d+, engine \w+, core \d+ bytes sha256 ([0-9a-f]{64})/g) ?? [];
    expect(banners.length, board.output).toBe(1); // one boot: no watchdog or crash reboot
    expect(banners[0]).toContain(sha256(WASM));
    expect(board.output).toMatch(/\[info\] pico: core running/);
    // the memory canary is on in the firmware: the core never wrote above its cap nor trapped
    expect(board.output).not.toMatch(/core wrote at offset|core trapped/);
    // the radio's absence is noticed once (the status LED is the first user of the lazily started CYW43)
    expect(board.output.match(/the CYW43 does not respond/g)?.length).toBe(1);
    expect(board.simulatedMs).toBeGreaterThan(20_000); // well past the 8 s watchdog
  });

  wasm3It("is the wasm3 image where WASM3_PATH is set: the core compiled into flash, the hot op handlers in RAM, 56 KB of heap left beside WiFi", () => {
    expect(engine).toBe("wasm3");
    expect(board.output).toMatch(/picowire firmware: ABI v\d+, engine wasm3,/);
    const load = board.output.match(/\[info\] wasm3: (\d+) bytes \(other \d+\) after compiling (\d+) functions into flash \(code (\d+) of (\d+) bytes, (\d+) sectors rewritten/);
    expect(load, board.output).not.toBeNull();
    expect(Number(load![3])).toBeLessThanOrEqual(Number(load![4]));
    // lwIP's heap and pools and the CYW43's buffers are static, so this is the heap left with WiFi up
    const free = board.output.match(/\[info\] pico: core running, stack high-water \d+ of \d+ bytes, free heap (\d+) bytes/);
    expect(free, board.output).not.toBeNull();
    expect(Number(free![1])).toBeGreaterThanOrEqual(56 * 1024); // issue 22: with the hot op handlers in RAM
    // every function of the hot list (native/pico/wasm3_hot_ops.txt) runs from RAM in the WiFi image
    const inRam = hotOpsPlacement(join(PICO_WASM3_BUILD, "native", "pico", "picowire.elf"));
    expect(inRam.missing, "hot-list functions the image does not hold").toEqual([]);
    expect(inRam.inFlash, "hot-list functions left in flash").toEqual([]);
    expect(inRam.inRam.length).toBeGreaterThan(50);
    expect(board.flashOps.erases, "the code region is written through the ROM's flash functions").toBeGreaterThan(0);
    console.info(`wasm3 WiFi image: ${load![0]}; free heap ${free![1]} B`);
  });

  wasm3It("keeps the wasm2c WiFi image building and booting too (build/picowire-wasm2c.uf2, within 1 MiB)", () => {
    expect(statSync(FIRMWARE_WASM2C_UF2).size).toBeLessThanOrEqual(UF2_MAX_BYTES);
    expect(boardWasm2c!.output).toMatch(/picowire firmware: ABI v\d+, engine wasm2c,/);
    expect(boardWasm2c!.output).toMatch(/\[info\] pico: core running/);
    expect(boardWasm2c!.output).not.toMatch(/core trapped/);
  });

  wasm3It("runs wasm3 with the whole core in the board's own RAM layout, compiled code in flash, and restarts it bound to that code, without compiling or writing flash", () => {
    const out = emuWasm3!.output;
    expect(emuWasm3!.done, out).toBe(true);
    expect(out).not.toMatch(/MEASUREMENT IMAGE/); // the real heap, not one past the SRAM
    const loads = [...out.matchAll(/\[info\] wasm3: (\d+) bytes \(other \d+\) after (compiling|binding) (\d+) functions (?:into|to their code cached in) flash \(code (\d+) of (\d+) bytes, (\d+) sectors rewritten/g)];
    expect(loads.length, out).toBeGreaterThanOrEqual(2);
    const [first, again] = [loads[0], loads[loads.length - 1]];
    expect(first[2]).toBe("compiling"); // the emulator's flash starts erased
    expect(Number(first[6])).toBeGreaterThan(0);
    // a restart allocates the same RAM addresses: the record matches and nothing is compiled or written
    expect(again[2], again[0]).toBe("binding");
    expect(again[3]).toBe(first[3]);
    expect(Number(again[6])).toBe(0);
    expect(Number(out.match(/C heap used by the engine after unloading the core: (-?\d+) B/)?.[1])).toBeLessThanOrEqual(16);
    expect(out).toContain("picowire emu: core loaded again: ok");
    expect(out).toContain("canary: no memory above the 40960-byte cap to guard");
    expect(out).toMatch(/stack high-water \d+ of \d+ bytes, guard intact/);
    expect(out).toContain("bench: ws handshake ok");
    expect(out).toContain("bench: lights: 30 DDP frames of 480 px, 43200 bytes shown");
  });

  it("offers its console on USB too: a computer sees a CDC serial port carrying the log lines", () => {
    expect(usbConsole.connected, "the USB device never enumerated").toBe(true);
    // lines printed after enumeration reach the computer (earlier ones went to UART0 only)
    expect(usbConsole.text).toMatch(/\[error\] pico: the CYW43 does not respond/);
  });

  /** Configures a fresh build directory with `variable` set to each of `bads`: CMake must refuse each, saying `must(bad)`. */
  const refusedAtConfigure = (variable: string, bads: string[], must: (bad: string) => string, extra: string[] = []) => {
    for (const bad of bads) {
      const dir = mkdtempSync(join(tmpdir(), "pw-configure-"));
      const r = spawnSync("cmake", ["-S", ROOT, "-B", dir, `-DPICO_SDK_PATH=${env.sdk}`, `-Dpicotool_DIR=${env.picotoolDir}`, ...extra, `-D${variable}=${bad}`], { encoding: "utf8", timeout: 300_000 });
      expect(r.status, bad).not.toBe(0);
      expect((r.stderr + r.stdout).replace(/\s+/g, " ")).toContain(must(bad));
    }
  };

  it("refuses a PICOWIRE_TRIAL_MS out of range at configure time, saying what it must be", () => {
    refusedAtConfigure("PICOWIRE_TRIAL_MS", ["500", "3600001", "soon"],
      (bad) => `PICOWIRE_TRIAL_MS must be a whole number of milliseconds from 1000 to 3600000, not '${bad}'`);
  }, 900_000);

  it("refuses a PICOWIRE_WASM3_CODE_KB that is not whole sectors or too large, saying what it must be", () => {
    refusedAtConfigure("PICOWIRE_WASM3_CODE_KB", ["6", "1024", "lots"],
      (bad) => `PICOWIRE_WASM3_CODE_KB must be a whole number of KiB from 0 to 768, a multiple of 4 (flash sectors), not '${bad}'`);
  }, 900_000);

  wasm3It("refuses a PICOWIRE_WASM3_OPS_IN_RAM other than hot, all or off, saying what it must be", () => {
    refusedAtConfigure("PICOWIRE_WASM3_OPS_IN_RAM", ["ON", "some"],
      (bad) => `PICOWIRE_WASM3_OPS_IN_RAM must be hot, all or off, not '${bad}'`, ["-DPICOWIRE_ENGINE=wasm3", `-DWASM3_PATH=${w3.path}`]);
  }, 900_000);

  it("builds build/picowire.uf2 within 1 MiB (the wasm3 image built for size, wasm3 itself at -O2)", () => {
    expect(existsSync(FIRMWARE_UF2)).toBe(true);
    expect(statSync(FIRMWARE_UF2).size).toBeLessThanOrEqual(UF2_MAX_BYTES);
  });

  it("boots in the emulator and names the tested core in its banner", () => {
    expect(emu.done, `no "picowire emu: done" within the timeout; UART said:\n${emu.output}`).toBe(true);
    const banner = emu.output.match(/picowire emu: boot, ABI v(\d+), engine (\w+), core (\d+) bytes sha256 ([0-9a-f]{64})/);
    expect(banner, emu.output).not.toBeNull();
    expect(Number(banner![3])).toBe(statSync(WASM).size);
    expect(banner![4]).toBe(sha256(WASM));
  });

  it("initialises the core through the C host", () => {
    expect(emu.output).toMatch(/picowire emu: core initialised: init OK/);
    // the only errors are the ones the canary check below provokes on purpose
    const errors = emu.output.split("\n").filter((l) => l.startsWith("[error]"));
    expect(errors.filter((l) => !/^\[error\] host: core wrote at offset \d+, above its \d+-byte memory cap/.test(l))).toEqual([]);
    expect(emu.output).toMatch(/stack high-water \d+ of \d+ bytes, guard intact/);
  });

  it("finds a stray write above the core's memory cap (canary in words, a stripe per round) and restarts the core", () => {
    // emu_main.c's check_canary(): no pass is owed when idle (the loop may sleep); a byte written above the
    // cap at the area's end, start and middle after the core ran is found within one pass, with no other
    // event, and the core comes back with reset_reason RESET_TRAP
    expect(emu.output).toMatch(/canary: idle round after a full pass: wait \d+ ms \(not forced\)/);
    const found = [...emu.output.matchAll(/canary: a stray write at offset (\d+) (.+?) after (\d+) service rounds \(at most (\d+)\), core (.+?), reset_reason (-?\d+)/g)];
    expect(found.map((m) => Number(m[1]))).toEqual([65535, 40960, 53249]); // the area's end, start and middle
    for (const m of found) {
      expect(m[2], m[0]).toBe("found");
      expect(Number(m[3]), m[0]).toBeLessThanOrEqual(Number(m[4]));
      expect(m[5], m[0]).toBe("restarted");
      expect(Number(m[6]), m[0]).toBe(C.RESET_TRAP);
      expect(emu.output).toContain(`[error] host: core wrote at offset ${m[1]}, above its 40960-byte memory cap`);
    }
  });

  it("drives a WS2812 strip through PIO + DMA: the pin's waveform decodes to the frame, bit for bit", () => {
    expect(emu.output).toMatch(/picowire emu: pixels: OK, 9 bytes on GP16 in \d+ us \(refused: pin 24 ERR_NOTFOUND, 1537 bytes ERR_RANGE\)/);
    expect(strip!.bytes(), `high times in PIO cycles: ${strip!.highs.join(",")}`).toEqual([0xff, 0x00, 0x80, 0x01, 0x02, 0x03, 0xa5, 0x5a, 0xc3]);
    expect(strip!.highs).toHaveLength(72); // 9 bytes, 8 bits each, nothing more on the line
  });

  it("runs the benchmarks through the core", () => {
    expect(emu.output).toContain('bench: rgb_parse("255,128,7") = 0xff8007');
    expect(emu.output).toContain("bench: ws handshake ok");
    // LED-strip frames through the core: every pixel of every frame reached pixels_show
    expect(emu.output).toContain("bench: lights: 30 DDP frames of 480 px, 43200 bytes shown");
    const echoed = [...emu.output.matchAll(/ws echo: (\d+) frames x (\d+) B in, (\d+) B echoed/g)];
    expect(echoed.length).toBeGreaterThan(0);
    for (const m of echoed) expect(Number(m[3])).toBe(Number(m[1]) * (Number(m[2]) + 4)); // 4-byte header each
    expect(emu.output).toMatch(/cycles\/B/);
  });
});
