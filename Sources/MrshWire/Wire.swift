import MrshPlan
