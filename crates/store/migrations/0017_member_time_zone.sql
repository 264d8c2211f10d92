-- The time zone a member reads times in (an IANA name); NULL: the site's zone.
ALTER TABLE users ADD COLUMN time_zone TEXT;
