// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {VolSurfaceOracle} from "../../contracts/oracle/VolSurfaceOracle.sol";
import {IVolSurfaceOracle} from "../../contracts/interfaces/IVolSurfaceOracle.sol";
import {VolSurfaceOracleSetUp} from "./VolSurfaceOracleSetUp.sol";

/// @notice What the vol-surface oracle's tests share: an oracle with three whitelisted signers
/// (keys sorted by address, so signatures go in increasing signer order), quorum 2, a change ratio
/// of 4 and WETH listed; and quorum-signed posts.
abstract contract VolSurfaceFixture is Test {
    address internal constant WETH = address(0xE7);

    VolSurfaceOracle internal oracle;
    /// @dev Three signer keys and their addresses, sorted by address.
    uint256[3] internal keys;
    address[3] internal signers;

    /// @dev Deploys the oracle at the current block time with this contract as its admin.
    function _setUpSurfaceOracle() internal {
        keys = VolSurfaceOracleSetUp.sortedSignerKeys();
        for (uint256 i; i < 3; ++i) signers[i] = vm.addr(keys[i]);
        oracle = VolSurfaceOracleSetUp.deploy(keys, WETH);
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The quorum's signatures of `p`: the first two signers, in order.
    function _sigs(IVolSurfaceOracle.SurfacePost memory p) internal view returns (bytes[] memory) {
        return VolSurfaceOracleSetUp.quorumSignatures(oracle, keys, p);
    }

    function _postSigned(IVolSurfaceOracle.SurfacePost memory p) internal {
        oracle.post(p, _sigs(p));
    }

    /// @dev Posts `p` signed by the quorum; whether it landed.
    function _tryPost(IVolSurfaceOracle.SurfacePost memory p) internal returns (bool ok) {
        bytes[] memory sigs = _sigs(p);
        (ok, ) = address(oracle).call(abi.encodeCall(oracle.post, (p, sigs)));
    }

    /// @dev A post of one surface for WETH signed at `ts`.
    function _one(
        uint256 ts,
        IVolSurfaceOracle.SurfaceInput memory s
    ) internal pure returns (IVolSurfaceOracle.SurfacePost memory p) {
        p.underlying = WETH;
        p.timestamp = ts;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](1);
        p.surfaces[0] = s;
    }
}
