import StateLang
public enum SagaCLIModule {}
