import MrshLanguage
import MrshPlan
