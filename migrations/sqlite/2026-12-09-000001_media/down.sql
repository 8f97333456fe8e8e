DROP TABLE media_garbage;
DROP TABLE media;
