// The blobs the cyw43-driver embeds in the image (WiFi firmware, CLM, NVRAM), read from the Pico SDK's own
// headers: the model checks what the driver downloads against them, so a corrupted download fails.
// Which files: the driver's defaults for a Pico W without Bluetooth (cyw43_config.h):
// firmware/w43439A0_7_95_49_00_combined.h and firmware/wifi_nvram_43439.h.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Cyw43Blobs {
  /** The WLAN firmware image (CYW43_WIFI_FW_LEN bytes), downloaded to chip RAM address 0. */
  firmware: Uint8Array;
  /** The CLM (regulatory) blob, sent later through the "clmload" iovar. */
  clm: Uint8Array;
  /** The NVRAM text (key=value\0 ...\0\0), downloaded just below the top of the chip's 512 KiB RAM. */
  nvram: Uint8Array;
  source: string;
}

const FIRMWARE_H = "lib/cyw43-driver/firmware/w43439A0_7_95_49_00_combined.h";
const NVRAM_H = "lib/cyw43-driver/firmware/wifi_nvram_43439.h";

/** Why the blobs cannot be read (PICO_SDK_PATH unset or without cyw43-driver), or null. */
export function blobsMissing(sdk = process.env.PICO_SDK_PATH): string | null {
  if (!sdk) return "PICO_SDK_PATH (the Pico SDK with lib/cyw43-driver: the model checks downloads against its blobs)";
  for (const f of [FIRMWARE_H, NVRAM_H]) if (!existsSync(join(sdk, f))) return `${join(sdk, f)} (cyw43-driver firmware headers)`;
  return null;
}

let cached: Cyw43Blobs | null = null;

export function loadBlobs(sdk = process.env.PICO_SDK_PATH): Cyw43Blobs {
  if (cached) return cached;
  const missing = blobsMissing(sdk);
  if (missing) throw new Error(`cyw43 model: missing ${missing}`);
  const fwText = readFileSync(join(sdk!, FIRMWARE_H), "utf8");
  const body = fwText.slice(fwText.indexOf("{") + 1, fwText.indexOf("}"));
  const bytes = Uint8Array.from(body.match(/0x[0-9a-fA-F]{2}/g)!.map((h) => parseInt(h, 16)));
  const fwLen = Number(/#define CYW43_WIFI_FW_LEN \((\d+)\)/.exec(fwText)?.[1]);
  const clmLen = Number(/#define CYW43_CLM_LEN \((\d+)\)/.exec(fwText)?.[1]);
  if (!fwLen || !clmLen) throw new Error(`cyw43 model: ${FIRMWARE_H} has no CYW43_WIFI_FW_LEN / CYW43_CLM_LEN`);
  const clmAt = (fwLen + 511) & ~511; // cyw43_ll.c: CYW43_CLM_ADDR = fw_data + ALIGN_UINT(CYW43_WIFI_FW_LEN, 512)
  const nvText = readFileSync(join(sdk!, NVRAM_H), "utf8");
  cached = {
    firmware: bytes.subarray(0, fwLen),
    clm: bytes.subarray(clmAt, clmAt + clmLen),
    nvram: parseCString(nvText.slice(nvText.indexOf("=") + 1, nvText.lastIndexOf(";"))),
    source: sdk!,
  };
  return cached;
}

/** Concatenated C string literals ("a" "b\x00") as bytes, with the terminating NUL sizeof() counts. */
function parseCString(text: string): Uint8Array {
  const out: number[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const s = m[1];
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== "\\") {
        out.push(s.charCodeAt(i));
        continue;
      }
      const c = s[++i];
      if (c === "x") {
        let j = i + 1;
        while (j < s.length && /[0-9a-fA-F]/.test(s[j])) j++;
        out.push(parseInt(s.slice(i + 1, j), 16) & 0xff);
        i = j - 1;
      } else out.push({ n: 10, r: 13, t: 9, "0": 0, "\\": 92, '"': 34 }[c] ?? c.charCodeAt(0));
    }
  }
  out.push(0);
  return Uint8Array.from(out);
}
