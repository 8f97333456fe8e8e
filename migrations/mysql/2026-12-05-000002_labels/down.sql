DROP TABLE contact_labels;
DROP TABLE chat_labels;
DROP TABLE labels;
