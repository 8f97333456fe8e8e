DROP TABLE ai_usage;
DROP TABLE ai_settings;
