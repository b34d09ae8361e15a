DROP TABLE directory_level;
ALTER TABLE directory_unit DROP CONSTRAINT directory_unit_head_fkey;
DROP TABLE directory_person;
DROP TABLE directory_unit;
