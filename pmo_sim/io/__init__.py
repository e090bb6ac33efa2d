"""What crosses the boundary of the model: task histories to fit, benchmark instances to
import, workbooks to export. Sits beside the experiment layer: it may read scenarios and use
the analysis functions, never the engine."""
