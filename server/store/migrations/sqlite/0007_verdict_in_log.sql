-- A strike's recorded verdict is kept once, in the record of its latest
-- event, which carries it already: the copy in its row doubled what a
-- write stored for each strike. verdict_version stays, to find the data
-- versions strikes depend on.
ALTER TABLE strikes DROP COLUMN verdict;
