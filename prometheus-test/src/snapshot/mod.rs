//! Snapshots of a suite's world (its `MongoDB` database and the files it
//! names), taken before every step and restored on resume or rewind.
//!
//! # Layout
//!
//! Everything lives in `<data_dir>/.snapshots/`:
//!
//! - `objects/<sha256 hex>`: content-addressed, immutable objects, each
//!   written to `objects/.tmp-<hex>` and renamed. An object is a file's bytes,
//!   a collection's documents as concatenated raw BSON (mongodump's `.bson`
//!   layout, in natural order), or a collection's options followed by its
//!   index specs (without `ns`) in the same layout. Equal content is stored
//!   once, whichever snapshot wrote it.
//! - `points/<round>-<index>.json`: one manifest per snapshot, written to
//!   `points/.tmp-<round>-<index>.json` and renamed. It names the
//!   point and lists every collection (name, `dbHash` md5, count, documents
//!   object, options-and-indexes object) and every path (relative path;
//!   absent, a folder, a link with its target, or a file with its object,
//!   mode and stat key), folders' content included, parents first. A kill
//!   leaves either the previous manifests or the new one whole: `kept` lists
//!   only renamed manifests and `open` removes `.tmp-*` leftovers. A point
//!   kept is never taken again: only a rewind (which drops the points after
//!   it) or a fresh run (which drops them all) lets a run take it anew. A
//!   manifest that cannot be read (damaged, or of another version) is listed
//!   apart; the setup renames it to `<name>.damaged` when no restore needs it.
//! - `restore.json`: the restore journal, present while a restore runs; it
//!   names the point. `recover` redoes that restore, which is idempotent.
//! - `staging/`: the files a restore is about to rename into place.
//!
//! # Cost of a snapshot
//!
//! On the primary of a replica set, a snapshot first reads the oplog from
//! where it stood before the previous snapshot this run took (`oplog.rs`):
//! when only documents were written (no command: no collection or index
//! created, changed or dropped), only the collections written are hashed
//! (`dbHash` of those) and read when their md5 changed; the others keep
//! their records. A step that wrote nothing costs that one oplog read. On any
//! other server, after a command, on the first snapshot of a run, or when
//! the oplog no longer holds the position, every collection is surveyed: a
//! collection whose `dbHash` md5 equals the previous snapshot's shares its
//! document object without being read; its options and indexes are listed
//! every time (`dbHash` does not cover them, and they are small), so a step
//! that changed nothing costs one `dbHash`, one `listCollections` and one
//! `listIndexes` per collection (all in one round trip). `dbHash` itself
//! reads every document on the server, so its cost grows with the database.
//!
//! A file whose stat key (size, mtime, ctime, inode, device) equals the
//! previous snapshot's entry shares its object unread, unless its mtime was
//! within two ticks of the kernel's coarse clock of the time it was last read
//! (file times come from that clock); any other file is hashed and stored
//! only when its object is new. Then a `stat` per path and the manifest's
//! write (unsynced, see below).
//!
//! # Restore
//!
//! Read-only first: the database and the files are compared with the
//! manifest; every object needed is read and verified (sha256); the files to
//! write are staged; the folders to change are checked writable. Any failure
//! there leaves the world untouched. Then, per collection: one whose md5 and
//! options-and-indexes are unchanged is left alone; one with the same options
//! is patched by `_id` (documents deleted, replaced, inserted; indexes
//! dropped and created by difference; rewritten whole when a unique key moved
//! between documents); any other is dropped and recreated; collections the
//! manifest does not have are dropped (`system.*` and views are no part of
//! the world). Then the files are renamed into place and extra paths removed.
//! Replaced documents keep their place in natural order; put-back ones go to
//! its end (`dbHash` hashes in `_id` order, so it equals the snapshot's).
//!
//! # Consistency
//!
//! Objects and manifests are not synced: a kill cannot tear a renamed file.
//! After a system crash, what the last seconds wrote may be missing or cut
//! short: the next run sets a cut manifest aside (or, when its restore needs
//! that one, stops naming the kept ones), and a restore's verification finds
//! a damaged object and changes nothing. Only the restore journal is synced.
//! Errors name collections, paths and objects, never their content; server
//! errors are given by code and name, as their text can quote documents.

mod collections;
mod files;
mod manifest;
mod objects;
mod oplog;
mod point;
mod report;
mod store;
mod world;

#[cfg(test)]
mod tests;

pub(crate) use point::Point;
#[cfg(test)]
use report::Taken;
pub(crate) use report::{Kept, Restored};
pub(crate) use store::{STORE_DIR, Store, nearest, not_kept};
pub(crate) use world::World;
