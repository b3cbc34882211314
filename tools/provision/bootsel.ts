// Finding a Pico in BOOTSEL mode: its bootrom shows a USB drive labelled RPI-RP2 holding INFO_UF2.TXT
// ("Board-ID: RPI-RP2"); a UF2 file copied onto it is written to the flash, then the board reboots.
// Where operating systems mount it: Linux desktops /media/$USER/RPI-RP2 (udisks) or /run/media/$USER/...
// (Fedora, Arch), by hand anywhere (so every mount point in /proc/mounts is looked at too); macOS
// /Volumes/RPI-RP2; Windows a drive letter. A second board's drive gets a suffix (RPI-RP21, "RPI-RP2 1").
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const BOOTSEL_LABEL = "RPI-RP2";
export const INFO_FILE = "INFO_UF2.TXT";
/** The RP2040 bootrom's Board-ID; an RP2350 (Pico 2) says "RP2350" and takes other firmware. */
export const RP2040_BOARD_ID = "RPI-RP2";

export const ENTER_BOOTSEL = `No Pico in BOOTSEL mode was found. To enter it: unplug the board, hold its BOOTSEL button (the
only button on a Pico W), plug the USB cable in, then let go. A drive named RPI-RP2 appears (on
Linux without a desktop, mount it: sudo mount /dev/sdX1 /mnt). Then run this command again, or name
the drive with --drive DIR.`;

export interface Platform {
  os: NodeJS.Platform;
  user?: string;
  /** /proc/mounts (Linux). */
  mounts?: string;
  /** Directory entries, [] where the directory does not exist. */
  list: (dir: string) => string[];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function hostPlatform(): Platform {
  let mounts: string | undefined;
  try {
    mounts = process.platform === "linux" ? readFileSync("/proc/mounts", "utf8") : undefined;
  } catch {
    mounts = undefined;
  }
  return { os: process.platform, user: process.env.USER ?? process.env.USERNAME, mounts, list: listDir };
}

const isBootselName = (name: string) => name.toUpperCase().startsWith(BOOTSEL_LABEL);

/** Directories where a BOOTSEL drive may be mounted on this platform (not yet checked). */
export function candidateDrives(p: Platform): string[] {
  const out: string[] = [];
  const under = (dir: string) => p.list(dir).filter(isBootselName).forEach((n) => out.push(join(dir, n)));
  if (p.os === "darwin") under("/Volumes");
  else if (p.os === "win32") {
    for (let c = "D".charCodeAt(0); c <= "Z".charCodeAt(0); c++) out.push(`${String.fromCharCode(c)}:\\`);
  } else {
    if (p.user) under(`/media/${p.user}`), under(`/run/media/${p.user}`);
    under("/media");
    under("/mnt");
    // every FAT mount point, so a drive mounted by hand is found too (FAT only: looking into a stale
    // network mount could hang); /proc/mounts escapes blanks as \040
    for (const line of (p.mounts ?? "").split("\n")) {
      const [, dir, type] = line.split(" ");
      if (dir && /fat|msdos|fuseblk/i.test(type ?? "")) out.push(dir.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
    }
  }
  return [...new Set(out)];
}

/** Why dir is not an RP2040's BOOTSEL drive, or null when it is. */
export function notBootselDrive(dir: string): string | null {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const info = join(dir, INFO_FILE);
  if (!existsSync(info)) return `${dir} has no ${INFO_FILE}: not a board in BOOTSEL mode`;
  const text = readFileSync(info, "latin1").slice(0, 4096);
  const id = /^Board-ID:\s*(\S+)/m.exec(text)?.[1];
  if (!id) return `${join(dir, INFO_FILE)} names no Board-ID: not a Pico's bootloader`;
  if (id !== RP2040_BOARD_ID) return `${dir} is the drive of a ${id} board; picowire's firmware is for the Pico W (RP2040, Board-ID ${RP2040_BOARD_ID})`;
  return null;
}

/** The BOOTSEL drives mounted now. */
export function findBootselDrives(p: Platform = hostPlatform()): string[] {
  return candidateDrives(p).filter((d) => {
    try {
      return notBootselDrive(d) === null;
    } catch {
      return false; // an unreadable mount (another user's, a stale network share) is not a board
    }
  });
}
