//! The two keys every Koii worker holds.

use std::fmt;

/// Which of a worker's two keys: see [`Worker::keypair`](crate::Worker::keypair).
///
/// `Display` gives the name used in workers.json (`keypairs.staking`,
/// `keypairs.main`) and in generated keypair file names. workers.json may
/// also name the main key `keypairs.public`, its name in prometheus-test 0.1.0.
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

impl KeyRole {
    /// The role a workers.json `keypairs` key names: `staking`, `main`, or
    /// `public` (the main key's name in prometheus-test 0.1.0).
    pub(crate) fn from_keypairs_key(key: &str) -> Option<Self> {
        match key {
            "staking" => Some(Self::Staking),
            "main" | "public" => Some(Self::Main),
            _ => None,
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_is_the_old_name_of_main() {
        let roles = ["staking", "main", "public", "Main", "wallet"].map(KeyRole::from_keypairs_key);
        assert_eq!(
            roles,
            [
                Some(KeyRole::Staking),
                Some(KeyRole::Main),
                Some(KeyRole::Main),
                None,
                None
            ]
        );
    }
}
