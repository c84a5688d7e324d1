"""The whole pipeline under load: a workload driven through the running system, what it
observed on the way, and a checker that accounts for every accepted input (issue 7).

    .venv/bin/python -m benchmarks.pipeline.run --backend sqlite --rate 300 --seconds 600
"""
