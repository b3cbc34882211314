// The picowire core: everything a host may call. See assembly/abi/spec.json.
export * from "./abi/exports";
import "./util/abort";
