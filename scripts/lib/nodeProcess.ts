import { network } from "hardhat";

/**
 * A Hardhat node in a process of its own, for `setUp`'s `serve` option: the in-process chain
 * served over HTTP from the run's own process answers another process (the indexer) only when the
 * run's event loop is free, and a keeper tick's synchronous mirror math holds it for tens of ms.
 * A node is its own process in production too. Reads the chain's start (`PLEDGE_NODE_INITIAL_DATE`,
 * ISO) and block gas limit (`PLEDGE_NODE_BLOCK_GAS_LIMIT`) from the environment, serves on a free
 * loopback port, prints `listening <port>` on stdout, and stops on SIGTERM or when stdin closes.
 */
const override = {
  initialDate: new Date(process.env.PLEDGE_NODE_INITIAL_DATE!),
  blockGasLimit: BigInt(process.env.PLEDGE_NODE_BLOCK_GAS_LIMIT!),
};
const server = await network.createServer({ override }, "127.0.0.1");
const { port } = await server.listen();
process.stdout.write(`listening ${port}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.stdin.on("end", stop).resume();
