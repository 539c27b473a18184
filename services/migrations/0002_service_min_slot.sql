-- The shortest slot a bookable service is booked for, in minutes, as its standard promises it ("2小时起",
-- "每次不少于1小时"); NULL: the booking rules' own minimum (one priced unit, or a one-hour window). At most a working
-- day, the longest slot (services/slots.py).
ALTER TABLE service_items ADD COLUMN min_slot_minutes integer CHECK (min_slot_minutes BETWEEN 1 AND 480);
