-- The directory of the linked response (package directory): the units and
-- people told of warnings, and which groups each warning level reaches.
-- A city edits these rows, or replaces them whole with
-- `onemap directory import`; the server reads them on every push, and
-- checks them as it checks a directory.json. Position keeps the file's order.
CREATE TABLE directory_unit (
    id text PRIMARY KEY,
    position integer NOT NULL UNIQUE,
    name text NOT NULL UNIQUE,
    name_en text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('owner', 'department', 'district', 'emergency', 'expert_group')),
    domains text[] NOT NULL DEFAULT '{}',
    districts text[] NOT NULL DEFAULT '{}',
    parent text REFERENCES directory_unit (id) DEFERRABLE INITIALLY DEFERRED,
    head text,
    webhook_url text,
    webhook_secret text, -- the name of the secret, kept outside the database
    CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL))
);

CREATE TABLE directory_person (
    id text PRIMARY KEY,
    position integer NOT NULL UNIQUE,
    name text NOT NULL,
    unit text NOT NULL REFERENCES directory_unit (id) DEFERRABLE INITIALLY DEFERRED,
    title text NOT NULL DEFAULT '',
    phone text NOT NULL DEFAULT '',
    login text UNIQUE,
    channels text[] NOT NULL,
    superior text REFERENCES directory_person (id) DEFERRABLE INITIALLY DEFERRED,
    expert_domains text[] NOT NULL DEFAULT '{}'
);

ALTER TABLE directory_unit ADD FOREIGN KEY (head) REFERENCES directory_person (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE directory_level (
    level integer PRIMARY KEY CHECK (level BETWEEN 1 AND 4),
    groups text[] NOT NULL
);
