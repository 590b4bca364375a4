# golden: context:base=ftp:whatever
FROM base
