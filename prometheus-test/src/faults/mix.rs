//! The one function every random choice of a fault comes from: a 64-bit
//! mix of the seed and the place of the draw, with no state in between.
//!
//! A draw is `mix(seed, round, step, attempt, subject, n, purpose)`: the
//! `n`-th request on link `subject` (or the worker `subject`, for churn) in
//! one attempt of one step instance of one round, for one `purpose` (which
//! entry of the schedule asks, and what for). Because a draw depends on
//! nothing but these, a resumed run, a `--from` rewind or a nextest replay
//! draws what the first run drew at the same place, and requests on other
//! links cannot move a link's draws.
//!
//! The mix is written out here rather than taken from a crate, so that a
//! seed keeps naming the same faults when dependencies are upgraded; the
//! tests pin its output. It is `SplitMix64`'s finaliser (Steele, Lea and
//! Flood, "Fast splittable pseudorandom number generators", 2014) applied
//! to each 64-bit word absorbed. Text is absorbed as its length and then
//! its UTF-8 bytes, eight at a time little-endian and zero-padded, so that
//! two different lists of fields are never the same list of words.

/// `SplitMix64`'s increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// `SplitMix64`'s finaliser: a bijection of 64-bit words with full avalanche.
fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Absorbs words and text into one 64-bit state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mixer(u64);

impl Mixer {
    /// A mixer started from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(finalise(seed.wrapping_add(GAMMA)))
    }

    /// Absorbs `word`.
    #[must_use]
    pub(crate) fn word(self, word: u64) -> Self {
        Self(finalise((self.0 ^ word).wrapping_add(GAMMA)))
    }

    /// Absorbs `text`: its length, then its bytes.
    #[must_use]
    pub(crate) fn text(self, text: &str) -> Self {
        let mut mixer = self.word(text.len() as u64);
        for chunk in text.as_bytes().chunks(8) {
            let mut bytes = [0_u8; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            mixer = mixer.word(u64::from_le_bytes(bytes));
        }
        mixer
    }

    /// The 64 bits drawn.
    pub(crate) fn bits(self) -> u64 {
        self.0
    }

    /// A number in `0.0..1.0` from the top 53 bits (every value equally
    /// likely): `unit() < p` holds with probability `p`, never for 0, always
    /// for 1.
    pub(crate) fn unit(self) -> f64 {
        #[expect(
            clippy::cast_precision_loss,
            reason = "53 bits fit an f64's mantissa exactly"
        )]
        let top = (self.0 >> 11) as f64;
        // 2^-53: half the distance from 1 to the next f64.
        top * (f64::EPSILON / 2.0)
    }

    /// A whole number in `low..=high` (`low` when `high < low`).
    pub(crate) fn between(self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = high.abs_diff(low).saturating_add(1);
        // `span` is at most 2^64 - 1 wide here; the bias of `%` is below
        // 2^-40 for the spans a schedule uses (milliseconds).
        low.wrapping_add_unsigned(self.0 % span)
    }
}

/// Where a draw is made and what for: everything it depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DrawAt<'a> {
    pub(crate) round: u32,
    /// The step instance (`steps::audit[worker2]`).
    pub(crate) step: &'a str,
    /// 0 for a step's first attempt, 1 for its first retry, …
    pub(crate) attempt: u32,
    /// The link (`runner->worker2`) or the worker (`worker3`) drawn for.
    pub(crate) subject: &'a str,
    /// The request's place on its link in this attempt (from 0); 0 for a
    /// draw made once a step.
    pub(crate) n: u64,
    /// Who draws and why (an entry of the schedule and the use).
    pub(crate) purpose: &'a str,
}

impl DrawAt<'_> {
    /// The draw under `seed`.
    pub(crate) fn draw(&self, seed: u64) -> Mixer {
        Mixer::new(seed)
            .word(u64::from(self.round))
            .text(self.step)
            .word(u64::from(self.attempt))
            .text(self.subject)
            .word(self.n)
            .text(self.purpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: u64) -> DrawAt<'static> {
        DrawAt {
            round: 2,
            step: "steps::audit[worker2]",
            attempt: 0,
            subject: "runner->worker2",
            n,
            purpose: "fire",
        }
    }

    /// A seed names the same faults in every build: these values may never
    /// change (a change breaks every `--seed` a user has written down).
    #[test]
    fn the_mix_is_pinned() {
        // SplitMix64's first output for seed 0, as published.
        assert_eq!(Mixer::new(0).bits(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(
            [0, 1, 2].map(|n| at(n).draw(8_841_274).bits()),
            [
                0x085d_c940_922a_ef6d,
                0x2a95_1908_d4d7_6f65,
                0xe44c_01c2_81e1_1353
            ]
        );
    }

    #[test]
    fn every_field_changes_the_draw() {
        let base = at(0);
        let seed = 7;
        let changed = [
            DrawAt { round: 3, ..base },
            DrawAt {
                step: "steps::audit[worker1]",
                ..base
            },
            DrawAt { attempt: 1, ..base },
            DrawAt {
                subject: "runner->worker1",
                ..base
            },
            DrawAt { n: 1, ..base },
            DrawAt {
                purpose: "jitter",
                ..base
            },
        ];
        for other in changed {
            assert_ne!(other.draw(seed).bits(), base.draw(seed).bits(), "{other:?}");
        }
        assert_ne!(base.draw(8).bits(), base.draw(seed).bits());
    }

    #[test]
    fn text_fields_keep_their_boundaries() {
        let split = |a: &str, b: &str| Mixer::new(1).text(a).text(b).bits();
        assert_ne!(split("ab", "c"), split("a", "bc"));
        assert_ne!(split("", "abcdefgh"), split("abcdefgh", ""));
    }

    #[test]
    fn units_cover_zero_to_one_evenly() {
        let units: Vec<f64> = (0..10_000).map(|n| at(n).draw(1).unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        let below_a_fifth = units.iter().filter(|u| **u < 0.2).count();
        assert!((1_800..2_200).contains(&below_a_fifth), "{below_a_fifth}");
        let between: Vec<i64> = (0..1_000).map(|n| at(n).draw(1).between(-2, 2)).collect();
        assert!(between.iter().all(|b| (-2..=2).contains(b)));
        assert!((-2..=2).all(|value| between.contains(&value)));
        assert_eq!(at(0).draw(1).between(5, 5), 5);
    }
}
