DROP TABLE incident_attachment;
DROP TABLE incident_record;
