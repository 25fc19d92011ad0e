//! MongoDB: connection (or a managed local `mongod`), fixture validation and
//! import, required-document checks and round counting.
//!
//! (Skeleton: the mongo helper fills this module in.)
