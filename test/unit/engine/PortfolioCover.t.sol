// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice The portfolio cover floor (`PortfolioMath.coverFloorUp`, finding 2): a long covers a
/// short only as far as it really does — same kind, same or later expiry, and the spread width
/// charged when its strike is on the wrong side — and the floor never drops below the standard
/// requirement of what the longs cannot cover.
contract PortfolioCoverTest is Test {
    uint256 internal constant SPOT = 3_000e18;
    uint40 internal constant EXPIRY = 1_800_000_000;

    /// @notice The review's attack in the library: 1,000 $1-strike long puts made 1,000 short
    /// 2,000-strike puts count as covered, removing the $200k standard minimum.
    function test_finding2_farStrikeLongPutDoesNotCoverShortPuts() public pure {
        SeriesId[] memory ids = new SeriesId[](2);
        int256[] memory balances = new int256[](2);
        ids[0] = _id(false, 2_000e18, EXPIRY);
        ids[1] = _id(false, 1e18, EXPIRY);
        balances[0] = -1_000e18;
        balances[1] = 1_000e18;
        uint256 floor = PortfolioMath.coverFloorUp(ids, balances, _perContract(ids, balances), 0);
        // Standard: max(15 % × 3000 − 1000 OTM, 10 % × 2000) = $200 a contract.
        assertEq(floor, 200_000e18, "far-strike long put counted as cover");
    }

    /// @notice A long put that expires before the short covers nothing; one expiring later does.
    function test_finding2_earlierExpiryDoesNotCover() public pure {
        SeriesId[] memory ids = new SeriesId[](2);
        int256[] memory balances = new int256[](2);
        ids[0] = _id(false, 2_800e18, EXPIRY);
        ids[1] = _id(false, 2_800e18, EXPIRY - 1 days);
        balances[0] = -10e18;
        balances[1] = 10e18;
        uint256[] memory perContract = _perContract(ids, balances);
        assertEq(PortfolioMath.coverFloorUp(ids, balances, perContract, 0), 10 * perContract[0]);
        ids[1] = _id(false, 2_800e18, EXPIRY + 1 days);
        assertEq(PortfolioMath.coverFloorUp(ids, balances, perContract, 0), 0, "later expiry covers");
    }

    /// @notice A long put 100 below the short strike covers all but the $100 width, which is
    /// below the $280 standard; the underlying held covers short calls first.
    function test_finding2_partialCoverChargesTheWidth() public pure {
        SeriesId[] memory ids = new SeriesId[](3);
        int256[] memory balances = new int256[](3);
        ids[0] = _id(false, 2_800e18, EXPIRY);
        ids[1] = _id(false, 2_700e18, EXPIRY);
        ids[2] = _id(true, 3_300e18, EXPIRY);
        balances[0] = -10e18;
        balances[1] = 4e18;
        balances[2] = -5e18;
        uint256[] memory perContract = _perContract(ids, balances);
        // 4 puts at the $100 width, 6 naked; 2 of the 5 calls covered by 2 units held.
        uint256 expected = 4 * 100e18 + 6 * perContract[0] + 3 * perContract[2];
        assertEq(PortfolioMath.coverFloorUp(ids, balances, perContract, 2e18), expected);
    }

    /// @notice Mixed strikes, kinds, expiries and sizes: the floor lies between the standard
    /// requirement of the shorts minus the most every long (and the underlying held) could
    /// possibly take off it, and the full standard requirement. A long can take off at most
    /// `size × max over the shorts it may cover of (standard − min(width, standard))`, and only
    /// for shorts of its kind expiring no later than it does.
    function testFuzz_finding2_floorNeverBelowUncoveredStandard(uint256 seed) public pure {
        (SeriesId[] memory ids, int256[] memory balances) = _randomBook(seed, 2, 2 + (seed % 7));
        uint256 n = ids.length;
        uint256 heldWad = seed % 4 == 0 ? (seed >> 8) % 20e18 : 0;
        uint256[] memory perContract = _perContract(ids, balances);
        uint256 floor = PortfolioMath.coverFloorUp(ids, balances, perContract, heldWad);

        uint256 standardUp;
        uint256 standardDown;
        uint256 maxCredit;
        uint256 bestCallStandard;
        for (uint256 s; s < n; ++s) {
            if (balances[s] >= 0) continue;
            standardUp += MarginMath.positionRequirementUp(balances[s], perContract[s]);
            standardDown += (uint256(-balances[s]) * perContract[s]) / 1e18;
            if (SeriesLib.isCallOf(ids[s]) && perContract[s] > bestCallStandard) bestCallStandard = perContract[s];
        }
        for (uint256 l; l < n; ++l) {
            if (balances[l] <= 0) continue;
            uint256 best;
            for (uint256 s; s < n; ++s) {
                if (balances[s] >= 0 || !_mayCover(ids[l], ids[s])) continue;
                uint256 width = _width(ids[s], ids[l]);
                uint256 credit = perContract[s] - (width < perContract[s] ? width : perContract[s]);
                if (credit > best) best = credit;
            }
            maxCredit += _mulUp(uint256(balances[l]), best);
        }
        maxCredit += _mulUp(heldWad, bestCallStandard);
        assertLe(floor, standardUp, "floor above the naked standard requirement");
        assertGe(floor + maxCredit, standardDown, "a long covered more than it really does");
    }

    /// @notice Once no long has contracts left and no underlying held is left, `coverFloorUp` sums
    /// what the shorts left need without ordering them (from the start for a book of shorts alone
    /// with nothing held, or after the last long or held unit is used up). The floor must be what
    /// the full order gives: the same book with one more long that can cover nothing (a put
    /// expiring before every short), which keeps a long in the count to the end and so takes the
    /// order all the way, has the same floor. Books of shorts alone, of mixed sides and with the
    /// underlying held. This compares the library with itself, so a wrong long count that also
    /// miscounts the inert long can pass it (review rv40 P2-1): `test_twoLongsRunOutOneAfterTheOther`
    /// and the SDK's independent full order (`test/sdk/coverFloor.parity.test.ts`) catch those.
    function testFuzz_shortsLeftUncoveredNeedNoOrder(uint256 seed) public pure {
        uint256 n = 1 + (seed % 8);
        // Longs with probability 0, 1/4 or 1/2: books of shorts alone, and longs that run out.
        (SeriesId[] memory ids, int256[] memory balances) = _randomBook(seed, (seed >> 4) % 3 == 0 ? 0 : 4, n);
        uint256 heldWad = (seed >> 8) % 3 == 0 ? (seed >> 16) % 20e18 : 0;
        uint256 floor = PortfolioMath.coverFloorUp(ids, balances, _perContract(ids, balances), heldWad);

        SeriesId[] memory idsInert = new SeriesId[](n + 1);
        int256[] memory balancesInert = new int256[](n + 1);
        for (uint256 i; i < n; ++i) (idsInert[i], balancesInert[i]) = (ids[i], balances[i]);
        idsInert[n] = _id(false, 6_000e18, EXPIRY - 1 days);
        balancesInert[n] = 1e18;
        uint256 ordered = PortfolioMath.coverFloorUp(
            idsInert,
            balancesInert,
            _perContract(idsInert, balancesInert),
            heldWad
        );
        assertEq(floor, ordered, "the shorts left were charged other than the order charges them");
    }

    /// @notice The first short (the riskiest put) uses up the only long; the two shorts after it
    /// are charged their standard requirement, as the order charges them.
    function test_shortsAfterTheLastLongPayTheirStandard() public pure {
        SeriesId[] memory ids = new SeriesId[](4);
        int256[] memory balances = new int256[](4);
        ids[0] = _id(false, 2_900e18, EXPIRY);
        ids[1] = _id(false, 2_850e18, EXPIRY);
        ids[2] = _id(true, 3_300e18, EXPIRY);
        ids[3] = _id(false, 2_800e18, EXPIRY);
        balances[0] = -4e18;
        balances[1] = -3e18;
        balances[2] = -5e18;
        balances[3] = 4e18;
        uint256[] memory perContract = _perContract(ids, balances);
        // 4 puts at 2,900 take the 4 longs at 2,800 ($100 wide); the rest is naked.
        uint256 expected = 4 * 100e18 + 3 * perContract[1] + 5 * perContract[2];
        assertEq(PortfolioMath.coverFloorUp(ids, balances, perContract, 0), expected);
    }

    /// @notice Review rv40's book: the riskiest put uses up the highest long, the next put the
    /// other long, and only then is no long left. A long count that reached 0 after the first
    /// long ran out would charge the 2,850 puts their $300 standard instead of the $150 width
    /// (1,300 instead of 850).
    function test_twoLongsRunOutOneAfterTheOther() public pure {
        SeriesId[] memory ids = new SeriesId[](4);
        int256[] memory balances = new int256[](4);
        ids[0] = _id(false, 2_900e18, EXPIRY);
        ids[1] = _id(false, 2_850e18, EXPIRY);
        ids[2] = _id(false, 2_800e18, EXPIRY);
        ids[3] = _id(false, 2_700e18, EXPIRY);
        balances[0] = -4e18;
        balances[1] = -3e18;
        balances[2] = 4e18;
        balances[3] = 3e18;
        uint256[] memory perContract = _perContract(ids, balances);
        assertEq(perContract[0], 350e18);
        assertEq(perContract[1], 300e18);
        assertEq(PortfolioMath.coverFloorUp(ids, balances, perContract, 0), 4 * 100e18 + 3 * 150e18);
    }

    // ------------------------------------------------------------ helpers

    /// @dev `n` positions drawn from `seed`: strikes from $1 to $6,000, both kinds, three
    /// expiries from `EXPIRY`, sizes up to 50 contracts; long with probability 1/`longOdds`
    /// (never for 0).
    function _randomBook(
        uint256 seed,
        uint256 longOdds,
        uint256 n
    ) internal pure returns (SeriesId[] memory ids, int256[] memory balances) {
        ids = new SeriesId[](n);
        balances = new int256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 strike = (r % 6) == 0 ? 1e18 : 1_000e18 + ((r >> 8) % 50) * 100e18;
            ids[i] = _id((r >> 64) % 2 == 0, strike, EXPIRY + uint40(((r >> 72) % 3) * 7 days));
            int256 size = int256(1 + ((r >> 128) % 50e18));
            balances[i] = longOdds != 0 && (r >> 200) % longOdds == 0 ? size : -size;
        }
    }

    function _id(bool isCall, uint256 strike, uint40 expiry) internal pure returns (SeriesId) {
        return SeriesLib.id(SeriesLib.Series(1, expiry, isCall, uint128(strike)));
    }

    function _perContract(
        SeriesId[] memory ids,
        int256[] memory balances
    ) internal pure returns (uint256[] memory perContract) {
        perContract = new uint256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (balances[i] >= 0) continue;
            perContract[i] = MarginMath.shortRequirementUp(
                SeriesLib.isCallOf(ids[i]),
                SPOT,
                SeriesLib.strikeOf(ids[i]),
                0.15e18,
                0.10e18
            );
        }
    }

    function _mayCover(SeriesId longId, SeriesId shortId) internal pure returns (bool) {
        return
            SeriesLib.isCallOf(longId) == SeriesLib.isCallOf(shortId) &&
            SeriesLib.expiryOf(longId) >= SeriesLib.expiryOf(shortId);
    }

    function _width(SeriesId shortId, SeriesId longId) internal pure returns (uint256) {
        uint256 ks = SeriesLib.strikeOf(shortId);
        uint256 kl = SeriesLib.strikeOf(longId);
        if (SeriesLib.isCallOf(shortId)) return kl > ks ? kl - ks : 0;
        return ks > kl ? ks - kl : 0;
    }

    function _mulUp(uint256 a, uint256 b) internal pure returns (uint256) {
        return (a * b + 1e18 - 1) / 1e18;
    }
}
