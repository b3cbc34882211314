// The bus: discovery, membership, roles and master election (docs/PROTOCOL.md). A Raft-style
// election with terms: one vote per board per term, a majority of the voters to win, and a candidate
// must hold a list at least as new as the voter's, so a term never has two masters. Membership
// changes one voter at a time, after the previous list version reached a majority.
import {
  host_board_id, host_random_fill, host_wifi_ip, host_wifi_rssi, host_flash_read, host_flash_write,
  host_flash_erase, OK, ERR_CONFIG, REGION_STATE, FLASH_SECTOR, FLASH_PAGE, IFACE_STA, IFACE_AP, LOG_INFO,
  LOG_WARN, LOG_ERROR, BUS_ROLE_OFF, BUS_ROLE_SEEKING, BUS_ROLE_MASTER, BUS_ROLE_WORKER, BUS_ROLE_CANDIDATE,
} from "../abi/host.generated";
import { udpOpen } from "../net/host";
import * as cfg from "../config";
import * as t from "./table";
import {
  tx, begin, transmit, bodyLength, HEADER, PROTOCOL_VERSION, ROW, DATAGRAM_MAX, H_TYPE, H_BUS, H_TERM, H_FROM,
  T_JOIN, T_HEARTBEAT, T_ACK, T_LIST, T_VOTE_REQUEST, T_VOTE, T_LEASES, T_PIXELS,
} from "./wire";
import { dhcpLeaseCount, dhcpLeaseAt, dhcpAdoptLease } from "../dhcp/server";
import { followMaster } from "../rgb/client";
import { put, putU32, emit, putLine, putRule, putWithIp, putWithU32 } from "../util/log";
import { reached, msUntil } from "../util/time";

const BROADCAST: u32 = 0xffffffff;
const NEVER: u32 = u32.MAX_VALUE;
const LIST_ROWS: i32 = (DATAGRAM_MAX - HEADER - 16 - 13) / ROW; // rows per LIST datagram
const LEASES_EVERY_MS: u32 = 5000; // the access point shares its DHCP leases: a successor keeps them

export let sock: i32 = -1;
export let role: i32 = BUS_ROLE_OFF;
export let busId: u64 = 0;
export let term: u32 = 0;
export let masterIp: u32 = 0;
export let received: u32 = 0;
export let dropped: u32 = 0;
export let myId: u64 = 0;
/** The access point the boards use is this board's (bus/radio.ts says so): it shares the DHCP leases. */
export let apIsOurs = false;
export function setApIsOurs(ours: bool): void {
  apIsOurs = ours;
}
let masterId: u64 = 0;
let lostMasterId: u64 = 0; // the master before this one: a new master removes it first
let version: u32 = 0; // of the member list, and the term that made it: the newer list wins a vote
let versionTerm: u32 = 0;
let listPending: u32 = 0; // a worker assembling a list that spans datagrams
let committed = false; // master: a majority holds the current version in this term
let votes: i32 = 0;
let preVoting = false; // asking whether a majority would vote for us (no term raised yet)
let lowestSeeker: u64 = 0; // seeking: the lowest id heard from another seeking board
let heardAt: u32 = 0; // the last heartbeat from our master
let busHeardAt: u32 = 0; // the last datagram from any board of our bus
let deadline: u32 = NEVER; // seek, election or master-loss timer
let nextBeat: u32 = NEVER;
let majorityAt: u32 = 0; // master: when a majority of voters was last heard
let leasesAt: u32 = 0;
let beats: u32 = 0;
let bootAt: u32 = 0;
let noVoteUntil: u32 = 0; // a rebooted board waits out any election it was in before (belt and braces)
// The last vote (bus id, term, candidate), also kept in the state region so a board that restarts
// never votes twice in one term (Raft keeps votedFor on disk). Written before the vote is sent.
const VOTE_MAGIC: u32 = 0x31545650; // "PVT1"
let keptBus: u64 = 0;
let keptTerm: u32 = 0;
let keptFor: u64 = 0;
const scratch = memory.data(32);

export function startBus(now: u32): i32 {
  if (!cfg.busOn) return OK;
  t.reserveTable(cfg.busMaxMembers);
  host_board_id(scratch, 8);
  myId = load<u64>(scratch) & 0x7fffffffffffffff | 1; // never mistaken for a plain board, never 0
  let iface = cfg.wifiMode == cfg.WIFI_AP ? IFACE_AP : IFACE_STA;
  sock = udpOpen(cfg.busPort, iface);
  if (sock < 0) {
    putWithU32("bus: cannot open UDP port ", cfg.busPort);
    emit(LOG_ERROR);
    return ERR_CONFIG;
  }
  bootAt = now;
  noVoteUntil = now + 4 * cfg.busElectionMs;
  if (host_flash_read(REGION_STATE, 0, scratch, 28) == 28 && load<u32>(scratch) == VOTE_MAGIC) {
    keptBus = load<u64>(scratch, 4);
    keptTerm = load<u32>(scratch, 12);
    keptFor = load<u64>(scratch, 16);
  }
  seek(now);
  return OK;
}

export function ownIp(): u32 {
  let ip = host_wifi_ip(IFACE_STA);
  return ip != 0 ? ip : host_wifi_ip(IFACE_AP);
}

function jitter(range: u32): u32 {
  host_random_fill(scratch, 4);
  return load<u32>(scratch) % range;
}

function electionTimeout(now: u32): u32 {
  return now + cfg.busElectionMs + jitter(cfg.busElectionMs);
}

function quorum(): i32 {
  return (t.voters() >> 1) + 1;
}

function isMe(i: i32): bool {
  return t.idAt(i) == myId;
}

let loggedIndex: i32 = -2; // the position last logged: a log line only when it changes
let loggedTerm: u32 = 0;

function logRole(): void {
  let index = t.indexOf(myId);
  if (index == loggedIndex && term == loggedTerm) return;
  loggedIndex = index;
  loggedTerm = term;
  put("bus: ");
  if (role == BUS_ROLE_MASTER) put("MASTER");
  else {
    putWithU32("WORKER", <u32>index);
    putWithIp(", master ", masterIp);
  }
  putWithU32(" in term ", term);
  putWithU32(", ", t.count);
  putLine(" members", LOG_INFO);
}

function follow(ip: u32, id: u64, now: u32): void {
  if (masterId != 0) lostMasterId = masterId;
  masterIp = ip;
  masterId = id;
  followMaster(role == BUS_ROLE_WORKER ? ip : 0, now);
  if (id != 0) logRole();
}

/** Leaves any bus and looks for one to join (or founds one after a quiet while). */
function seek(now: u32): void {
  role = BUS_ROLE_SEEKING;
  preVoting = false;
  busId = 0;
  term = 0;
  version = 0;
  t.setCount(0);
  follow(0, 0, now);
  lowestSeeker = 0;
  deadline = electionTimeout(now);
  nextBeat = now;
}

/** Follows a newer term with no master yet. `restartTimer` false keeps the election timer running:
 *  only a heartbeat or a granted vote resets it (as in Raft), so a candidate with a stale list does
 *  not hold back the board that can win. */
function stepDown(newTerm: u32, now: u32, restartTimer: bool): void {
  term = newTerm;
  role = BUS_ROLE_WORKER;
  follow(0, 0, now);
  if (restartTimer) deadline = electionTimeout(now);
}

// ---- sending ------------------------------------------------------------------------------------

function toMember(i: i32, bodyLen: i32): void {
  transmit(sock, load<u32>(t.entry(i) + t.E_IP), cfg.busPort, bodyLen);
}

/** To every board that should hear it: one broadcast, or each member (and the seeds) where the
 *  network has none (bus_peers configured). */
export function toAll(bodyLen: i32, seeds: bool): void {
  if (cfg.busPeerCount == 0) return transmit(sock, BROADCAST, cfg.busPort, bodyLen);
  for (let i = 0; i < t.count; i++) if (!isMe(i) && !(t.flagsAt(i) & t.F_PLAIN)) toMember(i, bodyLen);
  if (!seeds) return;
  let me = ownIp();
  for (let i = 0; i < cfg.busPeerCount; i++) {
    let ip = load<u32>(cfg.busPeers + (i << 2));
    if (ip != me && indexOfIp(ip) < 0) transmit(sock, ip, cfg.busPort, bodyLen);
  }
}

export function indexOfIp(ip: u32): i32 {
  for (let i = 0; i < t.count; i++) if (load<u32>(t.entry(i) + t.E_IP) == ip) return i;
  return -1;
}

function versionBody(b: usize): void {
  store<u32>(b, version);
  store<u32>(b, versionTerm, 4);
}

/** plainPort: a plain board's HELLO port (its NODES go there), 0 for a picowire board. */
export function sendJoin(ip: u32, joinerId: u64, joinerIp: u32, plainPort: i32): void {
  let b = begin(T_JOIN, busId, term, joinerId);
  store<u32>(b, joinerIp);
  store<u16>(b, <u16>plainPort, 4);
  if (ip == BROADCAST) toAll(6, true);
  else transmit(sock, ip, cfg.busPort, 6);
}

/** The whole member list, in as many datagrams as it takes. */
function sendList(ip: u32, now: u32): void {
  for (let first = 0; first == 0 || first < t.count; first += LIST_ROWS) {
    let b = begin(T_LIST, busId, term, myId);
    versionBody(b);
    store<u16>(b + 8, <u16>t.count);
    store<u16>(b + 10, <u16>first);
    let n = min(LIST_ROWS, t.count - first);
    store<u8>(b + 12, <u8>n);
    let r = b + 13;
    for (let i = first; i < first + n; i++, r += ROW) {
      let e = t.entry(i);
      memory.copy(r, e, 12); // id, ip
      store<u8>(r + 12, load<u8>(e + t.E_FLAGS) & (t.F_VOTER | t.F_PLAIN));
      let me = i == 0; // the master: its own figures are live, not reported
      store<i8>(r + 13, me ? <i8>host_wifi_rssi() : load<i8>(e + t.E_RSSI));
      store<u32>(r + 14, me ? (now - bootAt) / 1000 : load<u32>(e + t.E_UPTIME));
    }
    transmit(sock, ip, cfg.busPort, <i32>(r - b));
  }
}

function sendVote(ip: u32, granted: bool, pre: bool): void {
  let b = begin(T_VOTE, busId, term, myId);
  store<u8>(b, granted);
  store<u8>(b, pre, 1);
  transmit(sock, ip, cfg.busPort, 2);
}

// ---- master -------------------------------------------------------------------------------------

function newVersion(): void {
  version++;
  versionTerm = term;
  committed = false;
  t.clearAll(t.F_ACKED);
}

function becomeMaster(now: u32): void {
  role = BUS_ROLE_MASTER;
  preVoting = false;
  let me = t.indexOf(myId);
  if (me > 0) t.toFront(me, scratch);
  let old = t.indexOf(lostMasterId);
  for (let i = 0; i < t.count; i++) store<u32>(t.entry(i) + t.E_SEEN, now);
  // the master we lost is due for removal at once; everyone else gets a full grace period
  if (old > 0) store<u32>(t.entry(old) + t.E_SEEN, now - cfg.busDeadMs - 1);
  newVersion();
  majorityAt = now;
  deadline = NEVER;
  nextBeat = now;
  follow(ownIp(), myId, now);
}

function found(now: u32): void {
  // a fresh random id: a founder that rebooted founds a different bus, whose terms start over safely
  host_random_fill(scratch, 8);
  busId = load<u64>(scratch) | 1;
  term = 1;
  keptBus = busId; // the founder votes for itself in term 1 (in memory: no one else runs for that term)
  keptTerm = 1;
  keptFor = myId;
  t.setCount(0);
  t.append(myId, ownIp(), t.F_VOTER, now);
  becomeMaster(now);
}

/** A board asks to join (or a plain board said HELLO): it gets the list at once. */
export function admit(id: u64, ip: u32, plainPort: i32, now: u32): void {
  let plain = plainPort != 0;
  let i = t.indexOf(id);
  if (i < 0) {
    if (t.tableFull()) {
      putWithU32("bus: full (bus_max_members=", cfg.busMaxMembers);
      putWithIp("), refusing ", ip);
      emit(LOG_WARN);
      return;
    }
    i = t.append(id, ip, plain ? t.F_PLAIN : 0, now);
    newVersion();
    putWithIp("bus: ", ip);
    put(plain ? " (a plain board) joined as WORKER" : " joined as WORKER");
    putU32(<u32>i);
    emit(LOG_INFO);
  }
  let e = t.entry(i);
  store<u32>(e + t.E_IP, ip);
  store<u32>(e + t.E_SEEN, now);
  if (plain) store<u32>(e + t.E_UPTIME, plainPort); // a plain board reports no uptime: keep its port
  else sendList(ip, now);
}

/** One membership change per committed version; dead non-voters go at once. */
function maintain(now: u32): void {
  let live = 0;
  let acked = 0;
  for (let i = t.count - 1; i >= 0; i--) {
    let f = t.flagsAt(i);
    let quiet = now - load<u32>(t.entry(i) + t.E_SEEN);
    if (isMe(i)) {
      live++;
      acked++;
    } else if (f & t.F_VOTER) {
      if (quiet < cfg.busElectionMs) live++;
      if (f & t.F_ACKED) acked++;
    } else if (!(f & t.F_PLAIN) && quiet > cfg.busDeadMs) {
      t.removeAt(i);
      newVersion();
    }
  }
  let q = quorum();
  if (live >= q) majorityAt = now;
  else if (now - majorityAt > 2 * cfg.busElectionMs) {
    putLine("bus: lost the majority of voters, no longer MASTER", LOG_WARN);
    return stepDown(term, now, true);
  }
  if (acked >= q) committed = true;
  if (!committed) return;
  let voters = t.voters();
  for (let i = 1; i < t.count; i++) {
    let f = t.flagsAt(i);
    let quiet = now - load<u32>(t.entry(i) + t.E_SEEN);
    if (f & t.F_VOTER && quiet > cfg.busDeadMs) {
      putWithIp("bus: ", load<u32>(t.entry(i) + t.E_IP));
      putLine(" stopped answering; removed", LOG_INFO);
      t.removeAt(i);
      return newVersion();
    }
    if (!(f & (t.F_VOTER | t.F_PLAIN)) && voters < cfg.busVoters && quiet < cfg.busElectionMs) {
      t.setFlags(i, t.F_VOTER, 0);
      return newVersion();
    }
  }
}

function beat(now: u32): void {
  maintain(now);
  if (role != BUS_ROLE_MASTER) return;
  // our address can change under us (founded before WiFi was up; took over the access point)
  masterIp = ownIp();
  store<u32>(t.entry(0) + t.E_IP, masterIp);
  let b = begin(T_HEARTBEAT, busId, term, myId);
  versionBody(b);
  store<u16>(b + 8, <u16>t.count);
  // the seeds hear us now and then, so a bus founded apart (a partition at boot) finds this one
  toAll(10, beats++ % 10 == 0);
}

function shareLeases(now: u32): void {
  leasesAt = now;
  let b = begin(T_LEASES, busId, term, myId);
  let n = 0;
  for (let i = 0; i < dhcpLeaseCount(); i++) n += dhcpLeaseAt(i, b + 1 + n * 14) != 0 ? 1 : 0;
  store<u8>(b, <u8>n);
  toAll(1 + n * 14, false);
}

// ---- elections ----------------------------------------------------------------------------------

/** Before a real election (which raises the term and so deposes a master) a voter asks whether a
 *  majority would vote for it at all (Raft's PreVote): a board back from a partition, whose master is
 *  alive, then never disrupts the bus. */
function startPreVote(now: u32): void {
  if (role == BUS_ROLE_CANDIDATE) role = BUS_ROLE_WORKER; // that election timed out: ask again first
  preVoting = true;
  if (askForVotes(term + 1, true, now)) startElection(now);
}

/** Counts our own vote and asks the voters for theirs (broadcast where there is one: a voter's
 *  address in our list may be stale after it moved to another access point); whether that alone is
 *  a majority. */
function askForVotes(reqTerm: u32, pre: bool, now: u32): bool {
  t.clearAll(t.F_VOTED);
  votes = 1;
  deadline = electionTimeout(now);
  if (votes >= quorum()) return true;
  let b = begin(T_VOTE_REQUEST, busId, reqTerm, myId);
  versionBody(b);
  store<u8>(b, pre, 8);
  toAll(9, false);
  return false;
}

/** Records the vote, in flash too (one sector erase and one page program per vote: elections are
 *  rare). The page is built in tx, which the vote's own datagram overwrites afterwards. */
function keepVote(voteTerm: u32, candidate: u64): void {
  keptBus = busId;
  keptTerm = voteTerm;
  keptFor = candidate;
  memory.fill(tx, 0xff, FLASH_PAGE);
  store<u32>(tx, VOTE_MAGIC);
  store<u64>(tx, busId, 4);
  store<u32>(tx, voteTerm, 12);
  store<u64>(tx, candidate, 16);
  if (host_flash_erase(REGION_STATE, 0, FLASH_SECTOR) == OK) host_flash_write(REGION_STATE, 0, tx, FLASH_PAGE);
}

function startElection(now: u32): void {
  preVoting = false;
  term++;
  // a vote this board cast before a restart, in this bus, holds a term it must not vote in again
  if (keptBus == busId && keptTerm >= term) term = keptTerm + 1;
  keepVote(term, myId);
  role = BUS_ROLE_CANDIDATE;
  follow(0, 0, now);
  putWithU32("bus: no master heard; asking for votes in term ", term);
  emit(LOG_INFO);
  if (askForVotes(term, false, now)) becomeMaster(now);
}

function listNewer(b: usize): bool {
  let v = load<u32>(b);
  let vt = load<u32>(b, 4);
  return vt > versionTerm || (vt == versionTerm && v >= version);
}

function voteRequested(from: u64, reqTerm: u32, ip: u32, b: usize, pre: bool, now: u32): void {
  // a board that hears its master ignores a disrupting candidate (one back from a partition); a
  // non-voter stays out of elections (its answer would count for nothing, and keep the asker hoping)
  let me = t.indexOf(myId);
  if (role == BUS_ROLE_MASTER || (masterIp != 0 && now - heardAt < cfg.busElectionMs)) return;
  if (me < 0 || !(t.flagsAt(me) & t.F_VOTER)) return;
  // a pre-vote changes nothing here: would we vote for it in that term?
  if (pre) return sendVote(ip, reqTerm > term && listNewer(b), true);
  if (reqTerm < term) return sendVote(ip, false, false);
  if (reqTerm > term) stepDown(reqTerm, now, false);
  let votedOther = keptBus == busId && keptTerm == reqTerm && keptFor != from; // now or before a restart
  let grant = listNewer(b) && reached(now, noVoteUntil) && (!votedOther || cfg.busUnsafeVotes);
  if (grant) {
    keepVote(reqTerm, from);
    deadline = electionTimeout(now);
  }
  sendVote(ip, grant, false);
}

function voteReceived(from: u64, granted: bool, pre: bool, now: u32): void {
  let i = t.indexOf(from);
  let counting = pre ? preVoting : role == BUS_ROLE_CANDIDATE;
  if (!counting || !granted || i < 0 || (t.flagsAt(i) & (t.F_VOTER | t.F_VOTED)) != t.F_VOTER) return;
  t.setFlags(i, t.F_VOTED, 0);
  if (++votes < quorum()) return;
  if (pre) startElection(now);
  else becomeMaster(now);
}

// ---- receiving ----------------------------------------------------------------------------------

function heartbeat(from: u64, ip: u32, b: usize, now: u32): void {
  if (role == BUS_ROLE_MASTER && from != myId) {
    put("bus: two masters in one term"); // cannot happen while a term has one majority
    emit(LOG_ERROR);
  }
  role = BUS_ROLE_WORKER;
  preVoting = false;
  heardAt = now;
  deadline = electionTimeout(now);
  if (masterId != from) follow(ip, from, now);
  masterIp = ip;
  let m = t.indexOf(from);
  if (m >= 0) store<u32>(t.entry(m) + t.E_SEEN, now);
  let a = begin(T_ACK, busId, term, myId);
  versionBody(a);
  store<u32>(a + 8, (now - bootAt) / 1000);
  store<i8>(a + 12, <i8>host_wifi_rssi());
  transmit(sock, ip, cfg.busPort, 13);
}

function acked(from: u64, ip: u32, b: usize, now: u32): void {
  let i = t.indexOf(from);
  if (i < 0) return admit(from, ip, 0, now); // removed while it was away: back as a newcomer
  let e = t.entry(i);
  store<u32>(e + t.E_IP, ip);
  store<u32>(e + t.E_SEEN, now);
  store<u32>(e + t.E_UPTIME, load<u32>(b, 8));
  store<i8>(e + t.E_RSSI, load<i8>(b, 12));
  if (load<u32>(b) == version && load<u32>(b, 4) == versionTerm) t.setFlags(i, t.F_ACKED, 0);
  else sendList(ip, now);
}

function listed(b: usize, body: i32, now: u32): void {
  let total = <i32>load<u16>(b, 8);
  let first = <i32>load<u16>(b, 10);
  let n = <i32>load<u8>(b, 12);
  if (13 + n * ROW > body || first + n > total) return;
  let v = load<u32>(b);
  if (first == 0) listPending = v;
  else if (v != listPending) return;
  if (first == 0) t.setCount(total);
  let r = b + 13;
  for (let i = first; i < min(first + n, t.count); i++, r += ROW) {
    let e = t.entry(i);
    memory.copy(e, r, 12);
    store<u32>(e + t.E_SEEN, now);
    store<u8>(e + t.E_FLAGS, load<u8>(r, 12));
    store<u8>(e + t.E_RSSI, load<u8>(r, 13));
    store<u32>(e + t.E_UPTIME, load<u32>(r, 14));
  }
  if (first + n < total) return;
  version = v;
  versionTerm = load<u32>(b, 4);
  if (t.indexOf(myId) < 0) return seek(now); // the master dropped us: ask again
  if (masterId != 0) logRole();
}

/** A datagram on the bus port (the tutorial's HELLO and WHO are bus/tutorial.ts's). Returns the body
 *  length of a current T_PIXELS datagram of our bus, which the lights handle, else -1. */
export function busDatagram(ip: u32, port: i32, p: usize, n: i32, now: u32): i32 {
  let body = bodyLength(p, n);
  if (body < 0 || role == BUS_ROLE_OFF) {
    dropped++;
    if (body < 0) {
      // the rule it broke (wire.ts bodyLength): too short, another protocol version, or a tag (or magic)
      // that is not ours; one kind of line whatever the rule, so a flood of them is rate-limited
      putWithIp("bus: dropped a datagram from ", ip);
      putRule(n < HEADER ? "length" : load<u8>(p, 2) != PROTOCOL_VERSION ? "version" : "tag");
      emit(LOG_INFO);
    }
    return -1;
  }
  let type = load<u8>(p + H_TYPE);
  let bus = load<u64>(p + H_BUS);
  let msgTerm = load<u32>(p + H_TERM);
  let from = load<u64>(p + H_FROM);
  let b = p + HEADER;
  if (from == myId) return -1; // our own broadcast
  received++;
  if (type == T_JOIN && body >= 6) {
    if (bus == 0 && role == BUS_ROLE_SEEKING) {
      if (lowestSeeker == 0 || from < lowestSeeker) lowestSeeker = from;
    } else if (bus == 0 || bus == busId) {
      let joinerIp = load<u32>(b) != 0 ? load<u32>(b) : ip;
      if (role == BUS_ROLE_MASTER) admit(from, joinerIp, load<u16>(b, 4), now);
      // where broadcast works the master heard it too; elsewhere pass it on
      else if (masterIp != 0 && cfg.busPeerCount > 0) sendJoin(masterIp, from, joinerIp, load<u16>(b, 4));
    }
    return -1;
  }
  if (bus != busId) {
    // another bus: a seeking board joins it; of two buses that meet, the one with the lower id stays
    // (a board whose own bus has had no master for bus_dead_ms joins any bus it hears)
    if (type == T_HEARTBEAT && (busId == 0 || bus < busId || (role != BUS_ROLE_MASTER && now - heardAt > cfg.busDeadMs))) {
      if (busId != 0) {
        putWithU32("bus: met bus ", <u32>bus);
        putLine(", which takes precedence; joining it", LOG_INFO);
        seek(now);
      }
      deadline = now + 2 * cfg.busElectionMs;
      sendJoin(ip, myId, 0, 0);
    } else if (type == T_LIST && busId == 0 && bus != 0) {
      busHeardAt = now;
      busId = bus;
      term = msgTerm;
      role = BUS_ROLE_WORKER;
      heardAt = now;
      deadline = electionTimeout(now);
      listed(b, body, now);
      follow(ip, from, now);
    } else dropped++;
    return -1;
  }
  busHeardAt = now;
  // pre-votes travel outside the term rules: they ask about a term, they do not claim it
  let pre = type == T_VOTE ? body >= 2 && load<u8>(b, 1) != 0 : type == T_VOTE_REQUEST && body >= 9 && load<u8>(b, 8) != 0;
  if (pre) {
    // a voter ahead of us: catch up on its term (no vote cast), so our next pre-vote can pass
    if (type == T_VOTE && msgTerm > term) stepDown(msgTerm, now, false);
    if (type == T_VOTE) voteReceived(from, load<u8>(b) != 0, true, now);
    else voteRequested(from, msgTerm, ip, b, true, now);
    return -1;
  }
  if (msgTerm < term) {
    // a stale master or candidate learns the current term from our answer
    if (type == T_HEARTBEAT || type == T_VOTE_REQUEST) sendVote(ip, false, false);
    return -1;
  }
  if (msgTerm > term && type != T_VOTE_REQUEST) stepDown(msgTerm, now, true);
  if (type == T_HEARTBEAT) heartbeat(from, ip, b, now);
  else if (type == T_ACK && body >= 13 && role == BUS_ROLE_MASTER) acked(from, ip, b, now);
  else if (type == T_LIST && body >= 13 && from == masterId) listed(b, body, now);
  else if (type == T_VOTE_REQUEST && body >= 9) voteRequested(from, msgTerm, ip, b, false, now);
  else if (type == T_VOTE && body >= 2) voteReceived(from, load<u8>(b) != 0, false, now);
  else if (type == T_PIXELS) return body;
  else if (type == T_LEASES && body >= 1 && !apIsOurs) {
    for (let i = 0, n = min(<i32>load<u8>(b), (body - 1) / 14); i < n; i++) dhcpAdoptLease(b + 1 + i * 14, now);
  }
  return -1;
}

/** Whether a bus datagram (busDatagram said it is current) comes from our master. */
export function fromMaster(p: usize): bool {
  return load<u64>(p + H_FROM) == masterId;
}

export function busTick(now: u32): u32 {
  if (role == BUS_ROLE_OFF) return NEVER;
  if (role != BUS_ROLE_MASTER && reached(now, deadline)) {
    if (ownIp() == 0) {
      // no network (WiFi coming up, or the access point being taken over): founding a bus or asking
      // for votes now would only split the bus; time without a network does not count
      busHeardAt = now;
      deadline = electionTimeout(now);
    } else if (role == BUS_ROLE_SEEKING) {
      if (lowestSeeker == 0 || myId < lowestSeeker) found(now);
      else {
        lowestSeeker = 0; // it had its chance; look again
        deadline = electionTimeout(now);
      }
    } else {
      let me = t.indexOf(myId);
      // nobody of this bus answers (the others are gone, or we are cut off from all of them): start
      // over as a new bus, which merges back when they meet; otherwise a voter asks for votes
      if (now - busHeardAt > cfg.busDeadMs) seek(now);
      else if (me >= 0 && t.flagsAt(me) & t.F_VOTER) startPreVote(now);
      else deadline = electionTimeout(now);
    }
  }
  if (reached(now, nextBeat)) {
    nextBeat = now + cfg.busHeartbeatMs;
    if (apIsOurs && busId != 0 && now - leasesAt >= LEASES_EVERY_MS) shareLeases(now);
    if (role == BUS_ROLE_MASTER) beat(now);
    else if (role == BUS_ROLE_SEEKING) sendJoin(BROADCAST, myId, 0, 0);
  }
  let next = msUntil(now, nextBeat);
  return role == BUS_ROLE_MASTER ? next : min(next, msUntil(now, deadline));
}

/** This board's position: 0 MASTER, n WORKERn, -1 not a member. */
export function busIndex(): i32 {
  return role == BUS_ROLE_OFF ? -1 : t.indexOf(myId);
}
