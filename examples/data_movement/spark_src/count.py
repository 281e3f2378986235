"""Counts the rows per species of every CSV file under --lake; writes counts.csv to --counts."""
import argparse

from pyspark.sql import SparkSession

from helpers import species_column

parser = argparse.ArgumentParser()
parser.add_argument("--lake", required=True)
parser.add_argument("--counts", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("count_species").getOrCreate()
df = spark.read.option("header", True).csv(args.lake)
column = species_column(df)
counts = df.groupBy(column).count().orderBy(column)
counts.coalesce(1).write.mode("overwrite").option("header", True).csv(args.counts)
spark.stop()
