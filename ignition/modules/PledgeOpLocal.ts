import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { addLocalPledge } from "./Pledge.js";

/**
 * The local core on an OP-stack chain (the `opLocal` network): as `Pledge`, plus a stand-in for
 * Chainlink's L2 sequencer uptime feed wired into the oracle. The stand-in is Chainlink's
 * `MockV3Aggregator` read the way uptime feeds are: answer 0 = up, 1 = down, `startedAt` = when
 * the status last changed. It starts "up since 1970", so prices work at once; flip it with
 * `updateRoundData(round, 1, now, now)` (down) and `updateRoundData(round, 0, now, now)` (up,
 * the grace period runs from `now`), as docs/deploy.md shows.
 */
export default buildModule("PledgeOpLocal", (m) => {
  const sequencerFeed = m.contract("MockV3Aggregator", [0, 0], { id: "SequencerUptimeFeed" });
  m.call(sequencerFeed, "updateRoundData", [1n, 0n, 1n, 1n], { id: "SequencerUpSinceEpoch" });
  const pledge = addLocalPledge(m, sequencerFeed);
  return { ...pledge, sequencerFeed };
});
