import Interpreter
public enum SQLiteStoreModule {}
