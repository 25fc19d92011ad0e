//! The two keys every Koii worker holds.

use std::fmt;

/// Which of a worker's two keys: see [`Worker::keypair`](crate::Worker::keypair).
///
/// `Display` gives the name used in workers.json (`keypairs.staking`,
/// `keypairs.main`) and in generated keypair file names.
///
/// ```
/// use prometheus_test::KeyRole;
///
/// assert_eq!(KeyRole::Staking.to_string(), "staking");
/// assert_eq!(KeyRole::Main.as_str(), "main");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The staking key (`stakingKey` in payloads); Koii payloads are signed with it.
    Staking,
    /// The main wallet key (`pubKey` in payloads).
    Main,
}

impl KeyRole {
    /// The role's name in workers.json: `"staking"` or `"main"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staking => "staking",
            Self::Main => "main",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
