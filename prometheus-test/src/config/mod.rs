//! Configuration: config.yaml (with run-time overrides), workers.json and
//! the `.env` files.

mod dotenv;
mod env;
mod located;
mod mongo;
mod names;
mod overrides;
mod poll;
mod problems;
mod python;
mod reader;
mod seconds;
mod suite;
mod text;
mod typed;
mod typos;
mod workers;

pub(crate) use env::EnvMap;
pub(crate) use mongo::{CollectionSettings, MongoSettings};
pub(crate) use overrides::Overrides;
pub(crate) use poll::PollSettings;
pub(crate) use problems::Problems;
pub(crate) use suite::Config;
pub(crate) use workers::{EnvSource, KeypairVars, Launch, WorkerSpec, load_workers};

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The configuration is read before anything else runs, and every other
    /// module reads it: it must not depend on any of them, or the module
    /// graph has a cycle (as `config` and `poll` once did).
    #[test]
    fn config_uses_no_other_module_of_the_crate() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
        // Spelt in two halves so that this line does not count itself.
        let needle = ["crate", "::"].concat();
        let mut uses = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (index, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains(&needle) {
                    let name = path.file_name().unwrap().to_string_lossy();
                    uses.push(format!("{name}:{}: {}", index + 1, line.trim()));
                }
            }
        }
        uses.sort();
        assert_eq!(uses, Vec::<String>::new());
    }
}
