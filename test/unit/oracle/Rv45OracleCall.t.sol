// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ChainlinkOracle} from "../../../contracts/oracle/ChainlinkOracle.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {IPledgeOracle} from "../../../contracts/interfaces/IPledgeOracle.sol";

/// @notice Review rv45: a feed whose every answer is scripted per calldata (exact bytes), so that the
/// oracle's calls are checked byte for byte: a call the script does not know (a mis-encoded selector
/// or round id) answers a valid-looking round with the marker answer `MARKER`, so it shows as a wrong
/// price rather than as a failed read.
contract Rv45ScriptedFeed {
    int256 public constant MARKER = 777_777e8;

    enum Mode {
        Unset,
        Return,
        Revert,
        BurnGas,
        ReturnPadded // `data` followed by `pad` bytes of ones
    }

    struct Response {
        Mode mode;
        uint256 pad;
        bytes data;
    }

    mapping(bytes32 => Response) internal _script;

    function script(bytes memory callData, Mode mode, bytes memory data, uint256 pad) public {
        _script[keccak256(callData)] = Response(mode, pad, data);
    }

    function setDecimals(uint8 d) external {
        script(abi.encodeWithSelector(0x313ce567), Mode.Return, abi.encode(uint256(d)), 0);
    }

    function setLatest(uint256 id, int256 answer, uint256 startedAt, uint256 updatedAt) external {
        script(abi.encodeWithSelector(0xfeaf968c), Mode.Return, abi.encode(id, answer, startedAt, updatedAt, id), 0);
    }

    function setRound(uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt) external {
        script(
            abi.encodeWithSelector(0x9a6fc8f5, id),
            Mode.Return,
            abi.encode(uint256(id), answer, startedAt, updatedAt, uint256(id)),
            0
        );
    }

    function scriptLatest(Mode mode, bytes calldata data, uint256 pad) external {
        script(abi.encodeWithSelector(0xfeaf968c), mode, data, pad);
    }

    function scriptRound(uint80 id, Mode mode, bytes calldata data, uint256 pad) external {
        script(abi.encodeWithSelector(0x9a6fc8f5, id), mode, data, pad);
    }

    fallback() external {
        Response storage r = _script[keccak256(msg.data)];
        Mode mode = r.mode;
        bytes memory data = r.data;
        if (mode == Mode.Unset) {
            data = abi.encode(uint256(1), MARKER, block.timestamp, block.timestamp, uint256(1));
            mode = Mode.Return;
        }
        if (mode == Mode.BurnGas) {
            assembly {
                invalid()
            }
        }
        if (mode == Mode.ReturnPadded) {
            uint256 pad = r.pad;
            bytes memory padded = new bytes(data.length + pad);
            for (uint256 i; i < data.length; ++i) padded[i] = data[i];
            data = padded; // zero padding: cheap to build, as costly to copy as any
        }
        assembly ("memory-safe") {
            if eq(mode, 2) {
                revert(add(data, 0x20), mload(data))
            }
            return(add(data, 0x20), mload(data))
        }
    }
}

/// @notice Review rv45: pins what the assembly `_call` (eb26d8a) must keep doing, for the oracle as
/// this test job builds it (legacy pipeline) and as `hardhat build` builds it (IR pipeline: the
/// artifact the deploy and the Node tests use), see the two concrete contracts at the end.
abstract contract Rv45OracleCallBase is Test {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant GRACE = 1 hours;
    uint256 internal constant DELAY = 2 hours;
    uint256 internal constant FALLBACK = 1 days;
    uint32 internal constant MAX_AGE = 1 hours;
    address internal constant WETH = address(0xE7);
    uint256 internal constant PHASE = 1 << 64;

    IChainlinkOracle internal oracle;
    Rv45ScriptedFeed internal sequencer;
    Rv45ScriptedFeed internal feed;

    function _deploy(address sequencer_) internal virtual returns (IChainlinkOracle);

    function setUp() public {
        vm.warp(T0);
        sequencer = new Rv45ScriptedFeed();
        sequencer.setLatest(7, 0, T0 - 2 hours, T0 - 2 hours);
        oracle = _deploy(address(sequencer));
        feed = new Rv45ScriptedFeed();
        feed.setDecimals(8);
        feed.setLatest(PHASE | 10, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(feed), MAX_AGE, 0, 0));
    }

    function _reverted(address aggregator) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, aggregator);
    }

    /// @dev A revert is a failed read whatever its revert data, even a full five-word answer: the
    /// length check alone must not make it a read (a mutant that ignores `staticcall`'s result and
    /// keeps the length check survived every other test).
    function test_rv45_revertWithAFullAnswerAsRevertData_isAFailedRead() public {
        bytes memory full = abi.encode(PHASE | 10, int256(2_000e8), T0 - 10 minutes, T0 - 10 minutes, PHASE | 10);
        feed.scriptLatest(Rv45ScriptedFeed.Mode.Revert, full, 0);
        vm.expectRevert(_reverted(address(feed)));
        IPledgeOracle(address(oracle)).spot(WETH);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0, "liveSince: not live");
        feed.scriptLatest(Rv45ScriptedFeed.Mode.Revert, bytes.concat(full, full), 0);
        vm.expectRevert(_reverted(address(feed)));
        IPledgeOracle(address(oracle)).spot(WETH);

        // The sequencer: a revert carrying "up for two hours" is no answer.
        sequencer.scriptLatest(
            Rv45ScriptedFeed.Mode.Revert,
            abi.encode(uint256(7), int256(0), T0 - 2 hours, T0 - 2 hours, uint256(7)),
            0
        );
        vm.expectRevert(_reverted(address(sequencer)));
        IPledgeOracle(address(oracle)).spot(WETH);
        feed.setLatest(PHASE | 10, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0, "liveSince: sequencer unknown");
    }

    /// @dev Settlement: a `getRoundData` that reverts with a full answer is "not found".
    function test_rv45_settlementRoundRevertingWithAFullAnswer_isNotFound() public {
        uint256 expiry = T0 - 3 hours;
        feed.setLatest(PHASE | 10, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        feed.setRound(uint80(PHASE | 4), 1_900e8, expiry - 1, expiry - 1);
        feed.scriptRound(
            uint80(PHASE | 5),
            Rv45ScriptedFeed.Mode.Revert,
            abi.encode(PHASE | 5, int256(1_950e8), expiry + 1, expiry + 1, PHASE | 5),
            0
        );
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, uint80(PHASE | 5)));
        oracle.postSettlementPrice(WETH, expiry, uint80(PHASE | 5), new uint80[](0));
        feed.setRound(uint80(PHASE | 5), 1_950e8, expiry + 1, expiry + 1);
        assertEq(oracle.postSettlementPrice(WETH, expiry, uint80(PHASE | 5), new uint80[](0)), 1_950e18);
    }

    /// @dev `getRoundData`'s calldata is exactly `abi.encodeCall(getRoundData, (id))` for round ids
    /// with every bit of the uint80 set (the feed answers only the exact calldata; anything else
    /// would read as the marker price or as a round that is not there).
    function test_rv45_getRoundDataCalldataIsTheAbiEncoding() public {
        uint80 top = type(uint80).max;
        sequencer.setLatest(7, 0, T0 - 10 days, T0 - 10 days);
        feed.setLatest(top, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        for (uint80 k = 1; k <= 16; ++k) feed.setRound(top - k, 2_000e8, T0 - 10 minutes - k, T0 - 10 minutes - k);
        // The walk reads 16 rounds below 2^80 - 1 and finds them all: a busy feed, live since notBefore.
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 1 days);
        // One round answered only under another encoding breaks the run exactly there.
        feed.scriptRound(top - 9, Rv45ScriptedFeed.Mode.Unset, "", 0);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 10 minutes - 8);
    }

    /// @dev The settlement reads of a phase-65535 round id and its hint (every phase bit set).
    function test_rv45_settlementRoundIdsWithHighPhaseBits() public {
        uint256 expiry = T0 - 3 hours;
        uint256 p = 3;
        uint80 first = uint80((p << 64) | type(uint64).max);
        // The latest round is in phase 3 (the proxy's current phase), far past round 2^64 - 1.
        feed.setLatest(first, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        feed.setRound(first, 2_001e8, expiry + 5, expiry + 5);
        feed.setRound(first - 1, 1_999e8, expiry - 5, expiry - 5);
        // Phase 1's last round before expiry is 2^64 - 2, its next one after `first`; phase 2 has none.
        uint80 hint1 = uint80((1 << 64) | (type(uint64).max - 1));
        feed.setRound(hint1, 1_998e8, expiry - 10, expiry - 10);
        feed.setRound(hint1 + 1, 2_002e8, expiry + 6, expiry + 6);
        feed.scriptRound(uint80(2 << 64) + 1, Rv45ScriptedFeed.Mode.Revert, "", 0);
        uint80[] memory hints = new uint80[](2);
        hints[0] = hint1;
        hints[1] = uint80(2 << 64);
        assertEq(oracle.postSettlementPrice(WETH, expiry, first, hints), 2_001e18);
    }

    /// @dev liveSince's sequencer branch counts the grace from `startedAt` (when the sequencer came
    /// back), not `updatedAt` (the uptime feed's last heartbeat): the tuple positions changed in eb26d8a
    /// and every other test sets the two equal.
    function test_rv45_liveSinceSequencer_readsStartedAtNotUpdatedAt() public {
        // Rounds every 10 minutes, live for days.
        feed.setLatest(PHASE | 100, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        for (uint80 k = 1; k <= 16; ++k) {
            feed.setRound(uint80(PHASE | (100 - k)), 2_000e8, 0, T0 - 10 minutes - k * 10 minutes);
        }
        // Up since T0 - 5 h, heartbeat one minute ago.
        sequencer.setLatest(7, 0, T0 - 5 hours, T0 - 1 minutes);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 4 hours);
        // Up since a time in the future: not live (updatedAt in the past would say otherwise).
        sequencer.setLatest(7, 0, T0 + 1, T0 - 1 minutes);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0);
        // startedAt 0 (uninitialised): not live.
        sequencer.setLatest(7, 0, 0, T0 - 1 minutes);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0);
        // And _checkSequencer: within grace by startedAt, though updatedAt is old.
        sequencer.setLatest(7, 0, T0 - 30 minutes, T0 - 5 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, T0 - 30 minutes, GRACE)
        );
        IPledgeOracle(address(oracle)).spot(WETH);
    }

    /// @dev `_feedLiveSince` and the walk use `updatedAt`, not `startedAt` (every mock sets them
    /// equal). startedAt is 0 throughout here: a swap would read every round as missing or stale.
    function test_rv45_feedLiveSince_readsUpdatedAtNotStartedAt() public {
        feed.setLatest(PHASE | 10, 2_000e8, 0, T0 - 10 minutes);
        for (uint80 k = 1; k <= 3; ++k) {
            feed.setRound(uint80(PHASE | (10 - k)), 2_000e8, 0, T0 - 10 minutes - k * 10 minutes);
        }
        feed.scriptRound(uint80(PHASE | 6), Rv45ScriptedFeed.Mode.Revert, "", 0);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 40 minutes);
        // And a startedAt far in the past, updatedAt recent, is a fresh price for spot.
        feed.setLatest(PHASE | 10, 2_000e8, T0 - 30 days, T0 - 10 minutes);
        assertEq(IPledgeOracle(address(oracle)).spot(WETH), 2_000e18);
        // The reverse is stale.
        feed.setLatest(PHASE | 10, 2_000e8, T0 - 10 minutes, T0 - 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(feed), T0 - 30 days, MAX_AGE)
        );
        IPledgeOracle(address(oracle)).spot(WETH);
    }

    /// @dev An answer shorter than five words is a failed read even when its first four words (all
    /// the oracle uses) are there: the walk stops at it. Without the length check the 128- and
    /// 159-byte answers would read as round 9 and the walk would go on to notBefore.
    function test_rv45_shortAnswer_isAFailedReadEvenWithFourWords() public {
        feed.setLatest(PHASE | 100, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        for (uint80 k = 2; k <= 16; ++k) {
            feed.setRound(uint80(PHASE | (100 - k)), 2_000e8, 0, T0 - 10 minutes - k * 1 minutes);
        }
        uint256[4] memory lengths = [uint256(0), 32, 128, 159];
        for (uint256 i; i < lengths.length; ++i) {
            bytes memory full = abi.encode(PHASE | 99, int256(2_000e8), T0 - 11 minutes, T0 - 11 minutes, PHASE | 99);
            assembly ("memory-safe") {
                mstore(full, mload(add(lengths, mul(i, 0x20))))
            }
            feed.scriptRound(uint80(PHASE | 99), Rv45ScriptedFeed.Mode.Return, full, 0);
            assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 10 minutes);
        }
    }

    /// @dev A round id past uint80 in `latestRoundData` (the ABI says uint80; a feed may not): liveSince
    /// does not walk from it, and the phase read takes the whole word.
    function test_rv45_latestRoundIdPastUint80() public {
        uint256 id = (uint256(1) << 80) | (PHASE | 100);
        feed.setLatest(id, 2_000e8, T0 - 10 minutes, T0 - 10 minutes);
        for (uint80 k = 1; k <= 16; ++k) {
            feed.setRound(uint80(PHASE | (100 - k)), 2_000e8, 0, T0 - 10 minutes - k * 10 minutes);
        }
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0, "not live");
        // spot does not look at the round id.
        assertEq(IPledgeOracle(address(oracle)).spot(WETH), 2_000e18);
        // The phase is roundId >> 64 of the full word (65537 here): 65536 hints expected.
        uint256 expiry = T0 - 3 hours;
        feed.setRound(uint80(PHASE | 5), 1_950e8, expiry + 1, expiry + 1);
        feed.setRound(uint80(PHASE | 4), 1_900e8, expiry - 1, expiry - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleSettlementHintsLength.selector, 0, (id >> 64) - 1)
        );
        oracle.postSettlementPrice(WETH, expiry, uint80(PHASE | 5), new uint80[](0));
    }

    /// @dev The round id is the answer's first word, not its fifth (`answeredInRound`, which every mock
    /// sets equal to it; Chainlink deprecated it). A mutant that read the fifth word survived every
    /// other deterministic test.
    function test_rv45_roundIdIsTheFirstWordNotAnsweredInRound() public {
        sequencer.setLatest(7, 0, T0 - 10 days, T0 - 10 days);
        feed.scriptLatest(
            Rv45ScriptedFeed.Mode.Return,
            abi.encode(PHASE | 100, int256(2_000e8), T0 - 10 minutes, T0 - 10 minutes, uint256(3)),
            0
        );
        for (uint80 k = 1; k <= 3; ++k) {
            feed.setRound(uint80(PHASE | (100 - k)), 2_000e8, 0, T0 - 10 minutes - k * 10 minutes);
        }
        // The walk goes 100 -> 99 -> 98 -> 97 and stops at 96 (unscripted: the marker round, answered now).
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0 - 40 minutes);
        // The phase is 1 (first word), not 0 (fifth): one round of phase 1 settles with no hints.
        uint256 expiry = T0 - 3 hours;
        feed.setRound(uint80(PHASE | 5), 1_950e8, expiry + 1, expiry + 1);
        feed.setRound(uint80(PHASE | 4), 1_900e8, expiry - 1, expiry - 1);
        assertEq(oracle.postSettlementPrice(WETH, expiry, uint80(PHASE | 5), new uint80[](0)), 1_950e18);
    }

    /// @dev Settlement reads `updatedAt` of `getRoundData`, not `startedAt`: on OCR feeds `startedAt`
    /// is the observations' time and comes before `updatedAt` (the transmission). A round observed
    /// before expiry but answered after it is the first round after expiry; one observed after expiry
    /// but answered before it is not (every mock sets the two equal: a swap survived the suite).
    function test_rv45_settlementReadsUpdatedAtNotStartedAt() public {
        uint256 expiry = T0 - 3 hours;
        feed.setRound(uint80(PHASE | 5), 1_950e8, expiry - 20, expiry + 10);
        feed.setRound(uint80(PHASE | 4), 1_900e8, expiry + 1, expiry - 1);
        assertEq(oracle.postSettlementPrice(WETH, expiry, uint80(PHASE | 5), new uint80[](0)), 1_950e18);
    }

    /// @dev A feed with no code (self-destructed, or an EOA by mistake): a failed read everywhere.
    function test_rv45_feedWithoutCode() public {
        vm.etch(address(feed), "");
        vm.expectRevert(_reverted(address(feed)));
        IPledgeOracle(address(oracle)).spot(WETH);
        assertEq(IPledgeOracle(address(oracle)).liveSince(WETH, T0 - 1 days), T0);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, uint80(PHASE | 5)));
        oracle.postSettlementPrice(WETH, T0 - 3 hours, uint80(PHASE | 5), new uint80[](0));
    }

    /// @dev A feed that runs out of gas: a failed read, with gas to spare for the error.
    function test_rv45_feedOutOfGas() public {
        feed.scriptLatest(Rv45ScriptedFeed.Mode.BurnGas, "", 0);
        vm.expectRevert(_reverted(address(feed)));
        IPledgeOracle(address(oracle)).spot{gas: 2_000_000}(WETH);
        assertEq(IPledgeOracle(address(oracle)).liveSince{gas: 2_000_000}(WETH, T0 - 1 days), T0);
    }

    /// @dev Return data past the five words is neither read nor copied: 64 KB after a valid answer
    /// is a valid answer and costs the oracle nothing more (the code before eb26d8a copied it all;
    /// with a tight gas budget it ran out where this one answers: a gas-only difference).
    function test_rv45_hugeReturnData_isReadAndNotCopied() public {
        bytes memory full = abi.encode(PHASE | 10, int256(2_000e8), T0 - 10 minutes, T0 - 10 minutes, PHASE | 10);
        uint256 g = gasleft();
        IPledgeOracle(address(oracle)).spot(WETH);
        uint256 plain = g - gasleft();
        feed.scriptLatest(Rv45ScriptedFeed.Mode.ReturnPadded, full, 64 * 1024);
        g = gasleft();
        assertEq(IPledgeOracle(address(oracle)).spot(WETH), 2_000e18);
        uint256 padded = g - gasleft();
        emit log_named_uint("spot gas, 160 B answer", plain);
        emit log_named_uint("spot gas, 64 KB answer", padded);
        // The feed itself pays for its 64 KB of memory (~14,400 gas of expansion and zeroing at most);
        // copying them into the oracle's memory would cost about as much again (the code before
        // eb26d8a: ~30,000 more in all).
        assertLt(padded - plain, 15_000, "64 KB of return data copied");
    }
}

/// @notice The oracle as this test job compiles it (legacy pipeline).
contract Rv45OracleCallLegacyTest is Rv45OracleCallBase {
    function _deploy(address sequencer_) internal override returns (IChainlinkOracle) {
        return IChainlinkOracle(address(new ChainlinkOracle(address(this), sequencer_, GRACE, DELAY, FALLBACK)));
    }
}

/// @notice The oracle's `hardhat build` artifact (IR pipeline, 10,000 runs): what the deploy uses.
contract Rv45OracleCallIRTest is Rv45OracleCallBase {
    function _deploy(address sequencer_) internal override returns (IChainlinkOracle) {
        address o = deployCode(
            "contracts/oracle/ChainlinkOracle.sol:ChainlinkOracle",
            abi.encode(address(this), sequencer_, GRACE, DELAY, FALLBACK)
        );
        // The IR artifact is smaller than this job's legacy build: make sure it is the one deployed.
        uint256 legacy = address(new ChainlinkOracle(address(this), sequencer_, GRACE, DELAY, FALLBACK)).code.length;
        assertLt(o.code.length, legacy, "not the IR artifact");
        return IChainlinkOracle(o);
    }
}
