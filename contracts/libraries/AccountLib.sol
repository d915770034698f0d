// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccountId} from "../types/AccountId.sol";

/// @title AccountLib
/// @notice Packs and unpacks account ids: `accountId = (uint256(uint160(owner)) << 96) | subId`.
/// One owner holds 2^96 subaccounts and none needs registering: the id *is* the owner.
library AccountLib {
    /// @notice The account id of `owner`'s subaccount `subId`.
    function accountId(address owner, uint96 subId) internal pure returns (AccountId) {
        return AccountId.wrap((uint256(uint160(owner)) << 96) | subId);
    }

    /// @notice The owner encoded in `account`.
    function ownerOf(AccountId account) internal pure returns (address) {
        return address(uint160(AccountId.unwrap(account) >> 96));
    }

    /// @notice The subaccount index encoded in `account`.
    function subIdOf(AccountId account) internal pure returns (uint96) {
        return uint96(AccountId.unwrap(account));
    }
}
