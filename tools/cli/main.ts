// The `picowire` command.
import { startNode, runUntilSignal, NODE_USAGE } from "./node.ts";
import { runDemo } from "./demo.ts";
import { rgbCommand, RGB_USAGE } from "./rgb.ts";
import { runCommand, infoCommand, CONTROL_USAGE } from "./control.ts";
import { simCommand } from "./sim.ts";
import { nodesCommand, discoverCommand, BUS_USAGE } from "./bus.ts";
import { configCommand, CONFIG_USAGE } from "./config.ts";
import { updateCommand, UPDATE_USAGE } from "./update.ts";
import { flashCommand, FLASH_USAGE } from "./flash.ts";

const USAGE = `usage: picowire <command>
  node ...          run a virtual board (picowire node --help)
  demo              a virtual bus of three boards on loopback (what npm start runs; picowire demo --help)
  rgb get|set ...   read or set a board's colour over HTTP
  run HOST ...      send control commands (picowire run HOST -c action=ping)
  info HOST         a board's get_info
  nodes HOST        the bus as a board sees it: members, roles, master
  discover [IP...]  boards answering on the bus port (default: broadcast)
  sim ...           the deterministic bus simulator (picowire sim --help)
  config set|show   a configuration-only UF2 for a board, or what one holds (picowire config --help)
  update HOST FILE  over-the-air update of a board's core (--all: every board of its bus)
  flash [options]   firmware and configuration onto a Pico W in BOOTSEL mode (picowire flash --help)

${NODE_USAGE}

${RGB_USAGE}

${CONTROL_USAGE}

${BUS_USAGE}

${CONFIG_USAGE}

${UPDATE_USAGE}

${FLASH_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "node":
        if (rest.includes("--help")) return console.log(NODE_USAGE), 0;
        await runUntilSignal([await startNode(rest)]);
        return 0;
      case "demo":
        await runDemo(rest);
        return 0;
      case "rgb":
        return await rgbCommand(rest);
      case "run":
        return await runCommand(rest);
      case "info":
        return await infoCommand(rest);
      case "nodes":
        return await nodesCommand(rest);
      case "discover":
        return await discoverCommand(rest);
      case "sim":
        return await simCommand(rest);
      case "config":
        return await configCommand(rest);
      case "update":
        return await updateCommand(rest);
      case "flash":
        return await flashCommand(rest);
      case undefined:
      case "help":
      case "--help":
        console.log(USAGE);
        return command ? 0 : 2;
      default:
        console.error(`unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    console.error(`picowire: ${(e as Error).message}`);
    return 1;
  }
}
