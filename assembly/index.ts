// The picowire core: everything a host may call. See assembly/abi/spec.json.
import "./abi/io"; // first: see abi/io.ts
export * from "./abi/exports";
import "./util/abort";
