// The seeded world lives in scripts/lib (the app's stack seeds it too); the tests keep this path.
export { type World, createWorld } from "../../../scripts/lib/seedWorld.js";
