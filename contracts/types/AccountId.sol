// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice An account: `(uint256(uint160(owner)) << 96) | subId` (see `AccountLib`). A value
/// type, so an account cannot be passed where a series id or an amount is expected; it encodes
/// as `uint256`, so no ABI changes and it costs nothing at run time.
type AccountId is uint256;

using {equalsAccount as ==, notEqualsAccount as !=, isZero} for AccountId global;

function equalsAccount(AccountId a, AccountId b) pure returns (bool) {
    return AccountId.unwrap(a) == AccountId.unwrap(b);
}

function notEqualsAccount(AccountId a, AccountId b) pure returns (bool) {
    return AccountId.unwrap(a) != AccountId.unwrap(b);
}

/// @notice Whether `account` is the zero id (no owner, subaccount 0): the "unset" value.
function isZero(AccountId account) pure returns (bool) {
    return AccountId.unwrap(account) == 0;
}
