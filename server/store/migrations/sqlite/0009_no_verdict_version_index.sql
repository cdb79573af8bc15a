-- strikes' verdict_version index served only pruning, which reads every
-- event's record anyway; keeping it cost every strike written an insert
-- into one more B-tree.
DROP INDEX strikes_verdict_version;
